import { useState } from 'preact/hooks';
import { call, enc, get } from '../api';
import { metric, num, when } from '../format';
import { useLoad } from '../hooks';
import type { Job, LeaderboardEntry, ModelVersion, Serving } from '../types';

const m = (v: ModelVersion, split: 'valid' | 'test', name: string): string => metric(v.metrics[split]?.[name]);

function Leaderboard({ job }: { job: Job }) {
  const entries: LeaderboardEntry[] = [...(job.result?.leaderboard ?? [])].sort((a, b) => (b.valid?.['HR@10'] ?? -1) - (a.valid?.['HR@10'] ?? -1));
  return (
    <section class="panel">
      <h2>Last auto search</h2>
      <p class="hint">
        Job {job.id.slice(0, 8)} finished {when(job.finishedAt)}; it chose {job.result?.model} by validation HR@10. Test figures are reported, never used for the choice.
      </p>
      <table data-testid="leaderboard">
        <thead>
          <tr>
            <th>model</th><th>hyperparameters</th><th>valid HR@10</th><th>valid NDCG@10</th><th>test HR@10</th><th>test NDCG@10</th><th>seconds</th><th>status</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td>{e.model}</td>
              <td><code>{JSON.stringify(e.hyper)}</code></td>
              <td>{metric(e.valid?.['HR@10'])}</td>
              <td>{metric(e.valid?.['NDCG@10'])}</td>
              <td>{metric(e.test?.['HR@10'])}</td>
              <td>{metric(e.test?.['NDCG@10'])}</td>
              <td>{num(e.seconds, 1)}</td>
              <td>{e.status}{e.note ? ` (${e.note})` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Models(_: { params: URLSearchParams }) {
  const models = useLoad(() => get<{ models: ModelVersion[] }>('/admin/models'), [], 10_000);
  const serving = useLoad(() => get<Serving>('/admin/serving'), [], 10_000);
  const lastAuto = useLoad(() => get<{ jobs: Job[] }>('/admin/jobs?limit=100&state=completed').then((r) => r.jobs.find((j) => j.model === 'auto' && j.result?.leaderboard) ?? null), []);
  const [message, setMessage] = useState<string | null>(null);

  const act = async (what: string, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
      setMessage(what);
    } catch (err) {
      setMessage(`Failed: ${(err as Error).message}`);
    }
    models.reload();
    serving.reload();
  };
  const activate = (v: ModelVersion) => act(`Activated ${v.model} ${v.version}.`, () => call('POST', `/admin/models/${enc(v.model)}/${enc(v.version)}/activate`));
  const pin = (v: ModelVersion) => act(`Serving pinned to ${v.model} ${v.version}.`, () => call('POST', '/admin/serving', { body: { model: v.model, version: v.version } }));
  const auto = () => act('Serving chooses automatically (best validation HR@10).', () => call('POST', '/admin/serving', { body: { model: 'auto' } }));

  const byModel = new Map<string, ModelVersion[]>();
  for (const v of models.data?.models ?? []) byModel.set(v.model, [...(byModel.get(v.model) ?? []), v]);
  const s = serving.data;

  return (
    <>
      {(models.error ?? serving.error) && <p class="error">{models.error ?? serving.error}</p>}
      <section class="panel">
        <p data-testid="serving-summary">
          Serving: <strong>{s?.model ?? 'popularity only'}</strong> {s?.version ?? ''} ({s?.mode === 'pinned' ? 'pinned' : 'chosen automatically'}, set by {s?.setBy})
          {s?.mode === 'pinned' && (
            <button class="small" onClick={auto}>
              Choose automatically
            </button>
          )}
        </p>
        {message && <p class="notice">{message}</p>}
      </section>
      {byModel.size === 0 && models.data && <p class="hint">No trained versions yet: start a retrain on the Jobs page.</p>}
      {[...byModel.entries()].map(([model, versions]) => (
        <section class="panel">
          <h2>{model}</h2>
          <table data-testid={`versions-${model}`}>
            <thead>
              <tr>
                <th>version</th><th>trained</th><th>valid HR@10</th><th>valid NDCG@10</th><th>test HR@10</th><th>test NDCG@10</th><th>state</th><th></th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr data-version={v.version} class={v.serving ? 'serving' : ''}>
                  <td><code>{v.version}</code></td>
                  <td>{when(v.createdAt)}</td>
                  <td>{m(v, 'valid', 'HR@10')}</td>
                  <td>{m(v, 'valid', 'NDCG@10')}</td>
                  <td>{m(v, 'test', 'HR@10')}</td>
                  <td>{m(v, 'test', 'NDCG@10')}</td>
                  <td>{v.serving ? 'serving' : v.active ? 'active' : ''}</td>
                  <td class="actions">
                    {!v.active && (
                      <button class="small" onClick={() => activate(v)}>
                        Activate
                      </button>
                    )}
                    {!v.serving && (
                      <button class="small" onClick={() => pin(v)}>
                        Serve this
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {lastAuto.data && <Leaderboard job={lastAuto.data} />}
    </>
  );
}
