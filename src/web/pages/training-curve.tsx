import { useState } from 'preact/hooks';
import { Chart } from '../chart';
import type { EpochPoint } from '../types';

/** An `auto` job's epochs carry "candidate N: …" in their stage; other jobs have one run. */
const candidateOf = (p: EpochPoint): string => /^candidate \d+: [^·]*/.exec(p.stage ?? '')?.[0].trim() ?? '';

// The refit on all data (after evaluation) has no validation figure; its loss is drawn apart.
// Job records say phase "training" and name the part in `stage` ("refit", "candidate 2: … · refit").
const isRefit = (p: EpochPoint): boolean => /\brefit/.test(p.stage ?? '') || (p.phase ?? '').startsWith('refit');

/** Loss and validation HR@10 per epoch; for an `auto` search, one candidate at a time (the latest by default). */
export function TrainingCurve({ history, model }: { history: readonly EpochPoint[]; model: string }) {
  const points = history.filter((p) => p.epoch !== undefined);
  const runs = [...new Set(points.map(candidateOf))];
  const [chosen, setChosen] = useState<string | null>(null);
  const run = chosen !== null && runs.includes(chosen) ? chosen : runs[runs.length - 1];
  const shown = points.filter((p) => candidateOf(p) === run);
  // After an `auto` search, the winner is refit on all data outside any candidate.
  const label = (r: string): string => r || (runs.length > 1 ? 'the winner, refit on all data' : '');
  if (shown.length === 0) return <p class="hint">No epochs recorded yet{model === 'ease' ? ' (EASE is solved in one step)' : ''}.</p>;
  return (
    <>
      {runs.length > 1 && (
        <label class="inline-label">
          Candidate
          <select data-testid="curve-candidate" value={run} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
            {runs.map((r) => (
              <option value={r}>{label(r)}</option>
            ))}
          </select>
        </label>
      )}
      <Chart
        title={label(run) ? `Training curve, ${label(run)}` : 'Training curve'}
        testId="training-curve"
        time={false}
        x={shown.map((_, k) => k + 1)}
        lines={[
          { label: 'loss', values: shown.map((p) => (isRefit(p) ? null : (p.loss ?? null))), color: '#2563eb' },
          ...(shown.some(isRefit) ? [{ label: 'refit loss', values: shown.map((p) => (isRefit(p) ? (p.loss ?? null) : null)), color: '#93c5fd' }] : []),
          { label: 'valid HR@10', values: shown.map((p) => p.valid ?? null), color: '#16a34a', right: true },
        ]}
      />
    </>
  );
}
