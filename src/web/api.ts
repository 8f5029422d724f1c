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
    readonly code: string | null = null,
    readonly details: { path: string; message: string }[] = [],
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
  error?: string;
  code?: string;
  details?: { path: string; message: string }[];
}

/** What a person can do about each kind of refusal, in words rather than a status code. */
const ADVICE: Record<string, string> = {
  rate_limited: 'This key sent too many requests; wait a minute and try again.',
  database_unavailable: 'The database cannot be reached right now; the page retries on its own.',
  insufficient_storage: "The server's disk is full; free space, then retry.",
  read_only: 'The database is read-only right now; writes will work again once it is writable.',
};

function describe(status: number, body: ErrorBody | null): string {
  if (body?.code && ADVICE[body.code]) return ADVICE[body.code];
  if (status >= 500) return `The server could not answer (${body?.error ?? `status ${status}`}); try again shortly.`;
  const details = body?.details?.map((d) => d.message).join('; ');
  return [body?.error ?? `The request was refused (status ${status})`, details].filter(Boolean).join(': ');
}

/** The ApiError of a refused answer, with the API's code and field details. */
const refusal = (status: number, body: ErrorBody | null): ApiError => new ApiError(status, describe(status, body), body?.code ?? null, body?.details ?? []);

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
  throw refusal(res.status, body as ErrorBody | null);
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);

/** Resolves to null when the thing asked for does not exist (404), so a page can say so in words. */
export const getOrNull = <T>(path: string): Promise<T | null> => get<T>(path).catch((err: unknown) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err)));

/**
 * Sends a file or another raw body (bulk import) with the stored key; answers as `call` does.
 * A File is sent as it is read, never held as a string.
 */
export async function send<T>(method: string, path: string, body: Blob, contentType: string): Promise<T> {
  const key = storedKey();
  const res = await fetch(path, { method, headers: { accept: 'application/json', 'content-type': contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
  const parsed = (await res.json().catch(() => null)) as unknown;
  if (res.ok) return parsed as T;
  throw refusal(res.status, parsed as ErrorBody | null);
}

/** Downloads a streamed answer (bulk export) with the stored key into a file the browser saves. */
export async function download(path: string, filename: string): Promise<number> {
  const key = storedKey();
  const res = await fetch(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) {
    throw refusal(res.status, (await res.json().catch(() => null)) as ErrorBody | null);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob.size;
}

/** A query string from the set values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
