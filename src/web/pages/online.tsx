import { useState } from 'preact/hooks';
import { call, enc, get } from '../api';
import { Chart } from '../chart';
import { metric, num, when } from '../format';
import { useLoad } from '../hooks';

interface Figures {
  model?: string | null;
  variant?: string | null;
  lists: number;
  slots: number;
  positiveSlots: number;
  ctr: number | null;
  positiveRate: number | null;
  coverage: number | null;
  novelty: number | null;
  conversions: Record<string, { count: number; rate: number }>;
}
interface OnlineStats {
  k: number;
  computedAt: string | null;
  totals: Figures[];
  days: { day: string; groups: Figures[] }[];
  sources: { source: string; slots: number; ctr: number | null }[];
  impressions: { recorded: number; dropped: number; written: number; bufferedBytes: number };
}
interface Test {
  effect: number;
  interval95: [number, number] | null;
  alwaysValid: [number, number] | null;
  pValue: number;
  significant: boolean;
}
interface Experiment {
  id: string;
  name: string;
  mode: 'ab' | 'interleave';
  status: string;
  variants: { name: string; share: number; model?: string; source?: string }[];
  winner: string | null;
  createdAt: string;
  report: {
    variants: { name: string; users: number; impressions: number; ctr: number | null; perUserCtr: number; interval95: [number, number] | null }[];
    comparisons: { variant: string; against: string; test: Test }[];
    interleaving: { users: number; impressions: number; wins: { first: number; second: number; ties: number }; preference: number; test: Test } | null;
    decision: { state: string; winner: string | null; reason: string };
    stoppingRule: string;
  } | null;
}

const DAY = 86_400_000;
const WINDOW_DAYS = 30;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${num(100 * x, 2)} %`);
const range = (r: [number, number] | null): string => (r ? `[${metric(r[0])}, ${metric(r[1])}]` : '(too few users for an interval)');
const label = (g: Figures): string => [g.model, g.variant].filter((x) => x !== null && x !== undefined).join(' · ') || 'all';

function Trend({ stats }: { stats: OnlineStats }) {
  const groups = stats.totals.slice(0, COLORS.length).map(label);
  // Every day of the window on the axis (a gap where nothing was shown), so one day of data is not stretched over years.
  const today = Math.floor(Date.now() / DAY);
  const x = Array.from({ length: WINDOW_DAYS }, (_, k) => (today - WINDOW_DAYS + 1 + k) * DAY + DAY / 2);
  const byDay = new Map(stats.days.map((d) => [Math.floor(Date.parse(`${d.day}T00:00:00Z`) / DAY), d]));
  const lines = groups.map((g, k) => ({ label: g, color: COLORS[k], values: x.map((t) => byDay.get(Math.floor(t / DAY))?.groups.find((f) => label(f) === g)?.ctr ?? null) }));
  return stats.days.length > 0 ? <Chart title={`CTR@${stats.k} per day`} x={x} lines={lines} testId="ctr-trend" /> : <p class="hint">No impressions yet: recommendations served from now on are recorded here.</p>;
}

function Experiments({ list, reload }: { list: Experiment[]; reload: () => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const act = async (what: string, path: string): Promise<void> => {
    try {
      await call('POST', path, { body: {} });
      setMessage(what);
    } catch (err) {
      setMessage(`Failed: ${(err as Error).message}`);
    }
    reload();
  };
  if (list.length === 0) return <p class="hint">No experiments yet. Start one with POST /admin/experiments (an A/B split or team-draft interleaving of two models or sources).</p>;
  return (
    <>
      {message && <p class="hint" data-testid="experiment-message">{message}</p>}
      {list.map((e) => (
        <div class="panel" data-experiment={e.id}>
          <h3>
            {e.name} <span class="hint">({e.mode === 'ab' ? 'A/B' : 'interleaving'} · {e.status} · started {when(e.createdAt)})</span>
          </h3>
          <p data-testid="decision">
            <strong>{e.report?.decision.state ?? 'no report yet'}</strong> {e.report ? `— ${e.report.decision.reason}` : ''} {e.winner ? `· winner ${e.winner}` : ''}
          </p>
          {e.report && e.mode === 'ab' && (
            <table data-testid="variants">
              <thead>
                <tr><th>variant</th><th>serves</th><th>users</th><th>impressions</th><th>CTR</th><th>per-user CTR (95%)</th><th>vs first: effect</th><th>always-valid interval</th><th>p</th></tr>
              </thead>
              <tbody>
                {e.report.variants.map((v) => {
                  const c = e.report!.comparisons.find((x) => x.variant === v.name);
                  const spec = e.variants.find((x) => x.name === v.name);
                  return (
                    <tr data-variant={v.name}>
                      <td>{v.name}</td><td>{spec?.model ?? spec?.source ?? 'serving model'}</td><td>{num(v.users)}</td><td>{num(v.impressions)}</td><td>{pct(v.ctr)}</td>
                      <td>{metric(v.perUserCtr)} {range(v.interval95)}</td><td>{c ? metric(c.test.effect) : 'control'}</td><td>{c ? range(c.test.alwaysValid) : ''}</td><td>{c ? metric(c.test.pValue) : ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {e.report?.interleaving && (
            <p data-testid="interleaving">
              {num(e.report.interleaving.impressions)} interleaved lists, {num(e.report.interleaving.users)} users: {e.variants[0].name} won {num(e.report.interleaving.wins.first)}, {e.variants[1].name} won {num(e.report.interleaving.wins.second)}, ties {num(e.report.interleaving.wins.ties)} · preference {metric(e.report.interleaving.preference)} {range(e.report.interleaving.test.alwaysValid)} · p {metric(e.report.interleaving.test.pValue)}
            </p>
          )}
          {e.report && <p class="hint">Stopping rule: {e.report.stoppingRule}</p>}
          <p>
            {e.status === 'running' && <button class="small" onClick={() => act(`Stopped ${e.name}.`, `/admin/experiments/${enc(e.id)}/stop`)}>Stop</button>}{' '}
            {e.status !== 'concluded' && <button class="small" onClick={() => act(`Concluded ${e.name}.`, `/admin/experiments/${enc(e.id)}/conclude`)}>Conclude</button>}{' '}
            {(e.winner ?? e.report?.decision.winner) && <button class="small" onClick={() => act(`Promoted the winner of ${e.name}.`, `/admin/experiments/${enc(e.id)}/promote`)}>Promote winner</button>}
          </p>
        </div>
      ))}
    </>
  );
}

/** Online evaluation: CTR and conversions per model and variant, the daily trend, and the experiments. */
export function Online(_: { params: URLSearchParams }) {
  const stats = useLoad(() => get<OnlineStats>(`/stats/online?days=${WINDOW_DAYS}&by=model,variant`), [], 10_000);
  const experiments = useLoad(() => get<{ experiments: Experiment[] }>('/admin/experiments'), [], 10_000);
  if (stats.error) return <p class="error">{stats.error}</p>;
  if (!stats.data) return <p class="hint">Loading…</p>;
  const s = stats.data;
  const types = [...new Set(s.totals.flatMap((t) => Object.keys(t.conversions)))].sort();
  return (
    <>
      <section class="panel">
        <h2>Online metrics (last 30 days)</h2>
        <p class="hint" data-testid="impressions">
          {num(s.impressions.recorded)} answers recorded by this process, {num(s.impressions.dropped)} dropped · computed {when(s.computedAt)}
        </p>
        <Trend stats={s} />
        <table data-testid="online-totals">
          <thead>
            <tr><th>model · variant</th><th>lists</th><th>CTR@{s.k}</th><th>positive rate</th><th>coverage</th><th>novelty</th>{types.map((t) => <th>{t}</th>)}</tr>
          </thead>
          <tbody>
            {s.totals.map((g) => (
              <tr data-group={label(g)}>
                <td>{label(g)}</td><td>{num(g.lists)}</td><td>{pct(g.ctr)}</td><td>{pct(g.positiveRate)}</td><td>{pct(g.coverage)}</td><td>{g.novelty === null ? '–' : num(g.novelty, 2)}</td>
                {types.map((t) => <td>{g.conversions[t] ? `${num(g.conversions[t].count)} (${pct(g.conversions[t].rate)})` : '–'}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
        {s.sources.length > 0 && <p class="hint">CTR by source: {s.sources.map((x) => `${x.source} ${pct(x.ctr)}`).join(' · ')}</p>}
      </section>
      <section class="panel">
        <h2>Experiments</h2>
        {experiments.error ? <p class="error">{experiments.error}</p> : <Experiments list={experiments.data?.experiments ?? []} reload={experiments.reload} />}
      </section>
    </>
  );
}
