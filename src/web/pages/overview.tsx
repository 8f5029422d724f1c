import { useState } from 'preact/hooks';
import { get } from '../api';
import { Chart } from '../chart';
import { num, when } from '../format';
import { useLoad } from '../hooks';
import type { IngestSeries, Serving, ServingSeries, Stats } from '../types';

/** Whose traffic the serving charts show: the replica that answered, or every replica together. */
const whose = (s: ServingSeries | null | undefined): string =>
  s?.scope === 'deployment' ? `${s.processes} API process${s.processes === 1 ? '' : 'es'}` : 'this process';

const REFRESH_MS = 5000;
const COLORS = { ratings: '#2563eb', events: '#ea580c', trained: '#16a34a', 'fold-in': '#9333ea', popularity: '#dc2626', p50: '#0891b2', p99: '#be123c' };

function Count({ label, value, id }: { label: string; value: number | undefined; id: string }) {
  return (
    <div class="card">
      <div class="label">{label}</div>
      <div class="value" data-testid={`count-${id}`}>
        {num(value)}
      </div>
    </div>
  );
}

export function Overview(_: { params: URLSearchParams }) {
  const [bucket, setBucket] = useState<'hour' | 'day'>('hour');
  const stats = useLoad(() => get<Stats>('/admin/stats'), [], REFRESH_MS);
  const serving = useLoad(() => get<Serving>('/admin/serving'), [], REFRESH_MS);
  const ingest = useLoad(() => get<IngestSeries>(`/admin/stats/ingest?bucket=${bucket}`), [bucket], REFRESH_MS);
  const answers = useLoad(() => get<ServingSeries>('/admin/stats/serving'), [], REFRESH_MS);
  const s = stats.data;
  const error = stats.error ?? serving.error ?? ingest.error ?? answers.error;
  const samples = answers.data?.series ?? [];
  const sampleX = samples.map((p) => Date.parse(p.t));

  return (
    <>
      {error && <p class="error">{error}</p>}
      <section class="cards">
        <Count label="Users" id="users" value={s?.counts.users} />
        <Count label="Items" id="items" value={s?.counts.items} />
        <Count label="Ratings" id="ratings" value={s?.counts.ratings} />
        <Count label="Events" id="events" value={s?.counts.events} />
        <div class="card">
          <div class="label">Serving</div>
          <div class="value small" data-testid="serving-model">
            {serving.data?.model ?? 'popularity only'}
          </div>
          <div class="sub">
            {serving.data?.version ?? 'no trained version'} · {serving.data?.mode}
          </div>
        </div>
        <div class="card">
          <div class="label">Jobs</div>
          <div class="sub">
            {s ? Object.entries(s.jobs).map(([state, n]) => `${state} ${n}`).join(' · ') : '–'}
          </div>
        </div>
      </section>
      <p class="hint">Figures computed {when(s?.computedAt)}; they follow writes within seconds.</p>
      <section class="panel">
        <div class="toolbar">
          <h2>Ingest</h2>
          <select value={bucket} onChange={(e) => setBucket((e.target as HTMLSelectElement).value as 'hour' | 'day')} aria-label="bucket">
            <option value="hour">per hour, last 48 hours</option>
            <option value="day">per day, last 30 days</option>
          </select>
        </div>
        {ingest.data && (
          <Chart
            title={`Rows written per ${bucket}`}
            testId="ingest-chart"
            x={ingest.data.series.map((b) => Date.parse(b.t))}
            lines={[
              { label: 'ratings', values: ingest.data.series.map((b) => b.ratings), color: COLORS.ratings },
              { label: 'events', values: ingest.data.series.map((b) => b.events), color: COLORS.events },
            ]}
          />
        )}
      </section>
      <section class="panel two">
        <div>
          <h2>Answers per second</h2>
          {samples.length ? (
            <Chart
              title={`By how they were made (${whose(answers.data)})`}
              testId="answers-chart"
              x={sampleX}
              lines={(['trained', 'fold-in', 'popularity'] as const).map((m) => ({ label: m, values: samples.map((p) => p.answers[m]), color: COLORS[m] }))}
            />
          ) : (
            <p class="hint">Collecting: a sample every {answers.data?.sampleSeconds ?? 5} s.</p>
          )}
        </div>
        <div>
          <h2>Latency</h2>
          {samples.length ? (
            <Chart
              title={`Serving requests, ms (${whose(answers.data)})`}
              testId="latency-chart"
              x={sampleX}
              lines={[
                { label: 'p50', values: samples.map((p) => p.p50Ms), color: COLORS.p50 },
                { label: 'p99', values: samples.map((p) => p.p99Ms), color: COLORS.p99 },
              ]}
            />
          ) : (
            <p class="hint">Collecting.</p>
          )}
        </div>
      </section>
    </>
  );
}
