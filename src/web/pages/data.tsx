import { useState } from 'preact/hooks';
import { ApiError, download, get, send } from '../api';
import { num } from '../format';
import { useLoad } from '../hooks';
import type { Stats } from '../types';

const KINDS = ['users', 'items', 'ratings', 'events'] as const;
type Kind = (typeof KINDS)[number];

interface Imported {
  kind: Kind;
  lines: number;
  written: number;
}

/** What an import refusal means for the person holding the file. */
function importProblem(err: unknown): string {
  if (!(err instanceof ApiError)) return `The import did not finish: ${(err as Error).message}`;
  const line = err.details.find((d) => /^line \d+$/.test(d.path));
  if (err.status === 400 && line) return `${line.path.replace('line', 'Line')} of the file is not valid (${line.message}). The lines before it were stored; fix that line and import the whole file again: nothing is stored twice.`;
  if (err.status === 413) return 'The file is over the import limit (IMPORT_MAX_BYTES) or has a line over IMPORT_MAX_LINE_BYTES; split it or fix that line.';
  return err.message;
}

function Export({ stats }: { stats: Stats | null }) {
  const [status, setStatus] = useState<string | null>(null);
  const save = async (kind: Kind): Promise<void> => {
    setStatus(`Exporting ${kind}…`);
    try {
      const bytes = await download(`/admin/export/${kind}`, `recflow-${kind}.ndjson`);
      setStatus(`Saved recflow-${kind}.ndjson (${num(bytes / 1024, 1)} KiB).`);
    } catch (err) {
      setStatus(`The export failed: ${(err as Error).message}`);
    }
  };
  return (
    <section class="panel">
      <h2>Export</h2>
      <p class="hint">One JSON object per line, oldest first; the file imports back as it is. The browser holds the whole file while it downloads: for millions of rows use <code>curl …/admin/export/ratings</code> or a client's <code>exportRows</code>.</p>
      <div class="chips" data-testid="export-buttons">
        {KINDS.map((kind) => (
          <button data-export={kind} onClick={() => void save(kind)}>
            {kind} <span class="hint">{stats ? num(stats.counts[kind]) : ''}</span>
          </button>
        ))}
      </div>
      {status && <p class="notice" data-testid="export-status">{status}</p>}
    </section>
  );
}

function Import({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState<Kind>('ratings');
  const [file, setFile] = useState<File | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!file) return setStatus({ ok: false, text: 'Choose an NDJSON file first.' });
    setStatus({ ok: true, text: `Importing ${file.name}…` });
    try {
      const r = await send<Imported>('POST', `/admin/import/${kind}`, file, 'application/x-ndjson');
      setStatus({ ok: true, text: `Imported ${num(r.written)} ${kind} from ${num(r.lines)} lines of ${file.name}.` });
      onDone();
    } catch (err) {
      setStatus({ ok: false, text: importProblem(err) });
    }
  };
  return (
    <form class="panel" onSubmit={(e) => void submit(e)} data-testid="import-form">
      <h2>Import</h2>
      <p class="hint">NDJSON, as the export writes it: ratings <code>{'{"userId","itemId","rating"}'}</code>, events <code>{'{"userId","itemId","type"}'}</code>, items <code>{'{"itemId","categories","labels"}'}</code>, users <code>{'{"userId","labels"}'}</code>. Ratings replace earlier ones and events are stored once, so a file can be imported again after a fix.</p>
      <div class="inline">
        <label>
          Kind
          <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}>
            {KINDS.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
        </label>
        <label class="grow">
          File
          <input type="file" name="file" accept=".ndjson,.jsonl,.json,application/x-ndjson" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </label>
        <button type="submit">Import</button>
      </div>
      {status && (
        <p class={status.ok ? 'notice' : 'error'} data-testid="import-status">
          {status.text}
        </p>
      )}
    </form>
  );
}

/** The bulk routes as buttons: a file in, a file out. */
export function Data(_: { params: URLSearchParams }) {
  const stats = useLoad(() => get<Stats>('/admin/stats'), []);
  return (
    <>
      <Import onDone={stats.reload} />
      <Export stats={stats.data} />
    </>
  );
}
