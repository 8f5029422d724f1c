import { get } from '../api';
import { num } from '../format';
import { useLoad } from '../hooks';
import type { EffectiveConfig, PipelineSlots } from '../types';

const show = (v: unknown): string => (v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** A source's settings beyond its type, as one line. */
function sourceSettings(spec: Record<string, unknown>): string {
  return Object.entries(spec)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k} ${show(v)}`)
    .join(' · ');
}

function Pipeline({ pipeline, slots }: { pipeline: EffectiveConfig['pipeline']; slots: PipelineSlots | null }) {
  const share = new Map((slots?.sources ?? []).filter((s) => s.route === 'recommendations').map((s) => [s.source, s]));
  const sources = pipeline.sources as Record<string, Record<string, unknown>>;
  const role = (name: string): string => [pipeline.blend.includes(name) ? `blend #${pipeline.blend.indexOf(name) + 1}` : '', pipeline.fallback.includes(name) ? `fallback #${pipeline.fallback.indexOf(name) + 1}` : ''].filter(Boolean).join(', ') || 'on request (?source=)';
  return (
    <section class="panel">
      <h2>Recommendation pipeline</h2>
      <p class="hint">
        Ranker configured: <strong data-testid="ranker">{show((pipeline.ranker as Record<string, unknown>).type)}</strong> · GET /popular serves <code>{pipeline.popular}</code> · paging to depth {show((pipeline.paging as Record<string, unknown>).maxDepth)}
      </p>
      <table data-testid="sources">
        <thead>
          <tr>
            <th>source</th><th>type</th><th>role</th><th>settings</th><th>served slots</th><th>share</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(sources).map(([name, spec]) => (
            <tr data-source={name}>
              <td><code>{name}</code></td>
              <td>{show(spec.type)}</td>
              <td>{role(name)}</td>
              <td class="hint">{sourceSettings(spec)}</td>
              <td>{num(share.get(name)?.items ?? 0)}</td>
              <td>{share.get(name) ? `${num(100 * share.get(name)!.share, 1)} %` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">Served slots: items this API process returned for /users/:id/recommendations since it started, by the source credited with each.</p>
      <h2>Rules, freshness, diversity</h2>
      <pre data-testid="rules">{JSON.stringify({ rules: pipeline.rules, freshness: pipeline.freshness, diversity: pipeline.diversity }, null, 2)}</pre>
    </section>
  );
}

/** The configuration in effect (read-only): every setting, where it came from, and the pipeline with each source's share of what it served. */
export function Settings() {
  const config = useLoad(() => get<EffectiveConfig>('/admin/config'), []);
  const slots = useLoad(() => get<PipelineSlots>('/admin/stats/pipeline'), [], 10_000);
  if (config.error) return <p class="error">{config.error}</p>;
  if (!config.data) return <p class="hint">Loading…</p>;
  const c = config.data;
  return (
    <>
      <p class="hint" data-testid="config-file">
        {c.file ? `Read from ${c.file}; environment variables override it.` : 'No configuration file (RECFLOW_CONFIG or ./recflow.yaml): defaults and environment variables.'} Secrets are never shown.
      </p>
      <Pipeline pipeline={c.pipeline} slots={slots.data} />
      <section class="panel">
        <h2>Settings</h2>
        <table data-testid="settings">
          <thead>
            <tr>
              <th>setting</th><th>value</th><th>variable</th><th>from</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(c.settings).flatMap(([section, keys]) =>
              Object.entries(keys).map(([key, s]) => (
                <tr data-setting={`${section}.${key}`}>
                  <td><code>{section}.{key}</code></td>
                  <td>{show(s.value)}</td>
                  <td class="hint">{s.env}</td>
                  <td>{s.origin}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </section>
    </>
  );
}
