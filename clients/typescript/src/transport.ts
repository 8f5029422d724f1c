import { RecflowConnectionError, RecflowError, type FieldProblem } from './errors.js';

export interface RetryPolicy {
  /** Attempts after the first, for 429 and 503 answers (and unreachable servers on idempotent methods). */
  retries: number;
  /** First backoff when the server gives no Retry-After; doubles per attempt, with full jitter. */
  baseDelayMs: number;
  /** Longest wait the client accepts: a Retry-After above it is returned to the caller as the error. */
  maxDelayMs: number;
}

export interface ClientOptions {
  /** Where recflow listens, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** An API key or the admin token, sent as `Authorization: Bearer …`. */
  apiKey?: string;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, for JSON requests (streams have none); 30 s by default. */
  timeoutMs?: number;
  /** Another fetch (a test double, undici with a proxy, a framework's fetch). */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined | null;

export interface SendOptions {
  path?: Record<string, string | number>;
  query?: Record<string, QueryValue>;
  /** A JSON value, or an NDJSON byte stream (sent once: a stream cannot be replayed for a retry). */
  body?: unknown;
  ndjson?: ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 30_000 };
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** HTTP with the API's conventions: bearer key, JSON, typed errors, retries that honour Retry-After. */
export class Transport {
  private readonly retry: RetryPolicy;
  private readonly fetch: typeof fetch;
  readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  url(template: string, send: SendOptions): string {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = send.path?.[name];
      if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    return `${this.baseUrl}${path}${queryString(send.query)}`;
  }

  /** The answer of a successful request (2xx); a RecflowError otherwise, after the retries. */
  async send(method: string, template: string, send: SendOptions = {}): Promise<Response> {
    const url = this.url(template, send);
    const replayable = send.ndjson === undefined;
    for (let attempt = 0; ; attempt++) {
      const last = !replayable || attempt >= this.retry.retries;
      let response: Response;
      try {
        response = await this.fetch(url, this.init(method, send));
      } catch (cause) {
        if (send.signal?.aborted) throw cause;
        if (last || !IDEMPOTENT.has(method)) throw new RecflowConnectionError(url, cause);
        await sleep(this.backoff(attempt), send.signal);
        continue;
      }
      if (response.ok) return response;
      const wait = retryAfterSeconds(response.headers.get('retry-after'));
      const retryable = response.status === 429 || response.status === 503;
      const delay = wait === null ? this.backoff(attempt) : wait * 1000;
      if (!retryable || last || delay > this.retry.maxDelayMs) throw await errorOf(response, wait);
      await response.body?.cancel();
      await sleep(delay, send.signal);
    }
  }

  async json<T>(method: string, template: string, send: SendOptions = {}): Promise<T> {
    const response = await this.send(method, template, send);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private backoff(attempt: number): number {
    return Math.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
  }

  private init(method: string, send: SendOptions): RequestInit & { duplex?: 'half' } {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    if (send.ndjson) {
      headers['content-type'] = 'application/x-ndjson';
      // Node's fetch streams a request body only in half-duplex mode.
      return { method, headers, body: send.ndjson, duplex: 'half', signal: send.signal };
    }
    if (send.body !== undefined) headers['content-type'] = 'application/json';
    return { method, headers, body: send.body === undefined ? undefined : JSON.stringify(send.body), signal: send.signal ? AbortSignal.any([send.signal, timeout]) : timeout };
  }
}

async function errorOf(response: Response, wait: number | null): Promise<RecflowError> {
  const text = await response.text();
  let body: { error?: string; code?: string; details?: FieldProblem[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not the API's JSON (a proxy's page): keep the status and the text
  }
  return new RecflowError(response.status, body.code ?? `http_${response.status}`, body.error ?? (text.slice(0, 200) || response.statusText), body.details ?? [], response.headers.get('x-request-id'), wait);
}
