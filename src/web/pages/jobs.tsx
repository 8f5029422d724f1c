import { useState } from 'preact/hooks';
import { call, enc, get } from '../api';
import { metric, seconds, when } from '../format';
import { useLoad } from '../hooks';
import { RETRAIN_MODELS } from '../model-names';
import { setParams } from '../route';
import type { Job } from '../types';
import { TrainingCurve } from './training-curve';

const LIVE = new Set(['queued', 'active']);

function progressText(job: Job): string {
  if (!LIVE.has(job.state)) return '';
  const p = job.progress as { phase?: string; stage?: string; epoch?: number; epochs?: number; valid?: number } | null;
  if (!p) return job.state === 'queued' ? 'waiting' : '';
  const epoch = p.epoch !== undefined ? `epoch ${p.epoch}${p.epochs ? `/${p.epochs}` : ''}` : '';
  return [p.stage ?? p.phase, epoch, p.valid !== undefined ? `valid HR@10 ${metric(p.valid)}` : ''].filter(Boolean).join(' · ');
}

function RetrainForm({ onStarted }: { onStarted: (id: string) => void }) {
  const [model, setModel] = useState('auto');
  const [epochs, setEpochs] = useState('');
  const [patience, setPatience] = useState('');
  const [hyper, setHyper] = useState('');
  const [force, setForce] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(null);
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = hyper.trim() ? (JSON.parse(hyper) as Record<string, unknown>) : undefined;
    } catch {
      setError('Hyperparameters must be a JSON object, e.g. {"factors": 32}');
      return;
    }
    const body = { model, ...(epochs ? { epochs: Number(epochs) } : {}), ...(patience ? { patience: Number(patience) } : {}), ...(parsed ? { hyper: parsed } : {}), ...(force ? { force } : {}) };
    try {
      const started = await call<{ jobId: string }>('POST', '/admin/retrain', { body });
      onStarted(started.jobId);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form class="panel inline" onSubmit={submit} data-testid="retrain-form">
      <h2>Retrain</h2>
      <label>
        Model
        <select name="model" value={model} onChange={(e) => setModel((e.target as HTMLSelectElement).value)}>
          {RETRAIN_MODELS.map((name) => (
            <option value={name}>{name}</option>
          ))}
        </select>
      </label>
      <label>
        Epochs
        <input name="epochs" type="number" min="1" max="1000" value={epochs} disabled={model === 'auto'} placeholder="default" onInput={(e) => setEpochs((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Patience
        <input name="patience" type="number" min="1" max="1000" value={patience} placeholder="3" title="Epochs without a better validation HR@10 before training stops" onInput={(e) => setPatience((e.target as HTMLInputElement).value)} />
      </label>
      <label class="grow">
        Hyperparameters (JSON)
        <input name="hyper" value={hyper} disabled={model === 'auto'} placeholder='{"factors": 32}' onInput={(e) => setHyper((e.target as HTMLInputElement).value)} />
      </label>
      <label class="check">
        <input name="force" type="checkbox" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} /> promote even if not better
      </label>
      <button type="submit">Start</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

function JobDetail({ id }: { id: string }) {
  const job = useLoad(() => get<Job>(`/admin/jobs/${enc(id)}`), [id], 2000);
  const j = job.data;
  if (job.error) return <p class="error">{job.error}</p>;
  if (!j) return null;
  const cancel = async (): Promise<void> => {
    await call('DELETE', `/admin/jobs/${enc(id)}`).catch(() => undefined);
    job.reload();
  };
  return (
    <section class="panel" data-testid="job-detail" data-state={j.state}>
      <h2>
        Job <code>{j.id.slice(0, 8)}</code> · {j.model} · <span class={`state ${j.state}`}>{j.state}</span>
        {LIVE.has(j.state) && (
          <button class="small danger" onClick={cancel}>
            Cancel
          </button>
        )}
      </h2>
      <p>
        {progressText(j)} {j.error && <span class="error">{j.error}</span>}
      </p>
      {j.result && (
        <p>
          Version <code>{j.result.version}</code>: valid HR@10 {metric(j.result.metrics?.valid['HR@10'])}, test HR@10 {metric(j.result.metrics?.test['HR@10'])}. {j.result.servingReason}
        </p>
      )}
      <TrainingCurve history={j.history} model={j.model} />
    </section>
  );
}

export function Jobs({ params }: { params: URLSearchParams }) {
  const jobs = useLoad(() => get<{ jobs: Job[] }>('/admin/jobs?limit=50'), [], 2000);
  const selected = params.get('job') ?? undefined;
  const select = (id: string): void => setParams('jobs', { job: id });
  return (
    <>
      <RetrainForm onStarted={(id) => { select(id); jobs.reload(); }} />
      {selected && <JobDetail id={selected} />}
      {jobs.error && <p class="error">{jobs.error}</p>}
      <section class="panel">
        <h2>Recent jobs</h2>
        <table data-testid="jobs">
          <thead>
            <tr>
              <th>job</th><th>model</th><th>state</th><th>progress</th><th>created</th><th>took</th><th>attempts</th>
            </tr>
          </thead>
          <tbody>
            {(jobs.data?.jobs ?? []).map((j) => (
              <tr class={j.id === selected ? 'selected' : ''} data-job={j.id} onClick={() => select(j.id)}>
                <td><a href={`#/jobs?job=${j.id}`}><code>{j.id.slice(0, 8)}</code></a></td>
                <td>{j.model}</td>
                <td><span class={`state ${j.state}`}>{j.state}</span></td>
                <td>{j.error ?? progressText(j)}</td>
                <td>{when(j.createdAt)}</td>
                <td>{seconds(j.startedAt, j.finishedAt)}</td>
                <td>{j.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
