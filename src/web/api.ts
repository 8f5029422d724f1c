/**
 * The dashboard's only way to the API: every call carries the admin key from session storage as a
 * bearer header (never in a URL), and a 401/403 signs the page out so it never shows data to a
 * caller the API refused.
 */
const KEY_SLOT = 'recflow.adminKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why the page signed out: null when the user chose to. */
type Listener = (reason: string | null) => void;
const signedOutListeners = new Set<Listener>();

export const storedKey = (): string | null => sessionStorage.getItem(KEY_SLOT);

export function signIn(key: string): void {
  sessionStorage.setItem(KEY_SLOT, key);
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY_SLOT);
  for (const l of signedOutListeners) l(reason);
}

export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

interface ErrorBody {
  message?: string;
  details?: { path: string; message: string }[];
}

function describe(status: number, body: ErrorBody | null): string {
  const details = body?.details?.map((d) => `${d.path}: ${d.message}`).join('; ');
  return [body?.message ?? `HTTP ${status}`, details].filter(Boolean).join(' — ');
}

/** Calls the API with `key` (the stored one by default); refusals of the key sign out unless `probe` is set. */
export async function call<T>(method: string, path: string, options: { body?: unknown; key?: string; probe?: boolean } = {}): Promise<T> {
  const key = options.key ?? storedKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const body = res.status === 204 ? null : ((await res.json().catch(() => null)) as unknown);
  if (res.ok) return body as T;
  if ((res.status === 401 || res.status === 403) && !options.probe) signOut(res.status === 401 ? 'The API no longer accepts this key; sign in again.' : 'This key lacks the admin scope.');
  throw new ApiError(res.status, describe(res.status, body as ErrorBody | null));
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);

/** A query string from the set values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
