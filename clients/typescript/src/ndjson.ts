/** What an import reads: records (one JSON line each), text or bytes already in NDJSON. */
export type NdjsonSource = ReadableStream<Uint8Array> | AsyncIterable<unknown> | Iterable<unknown>;

const encoder = new TextEncoder();

function chunkOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  return encoder.encode(`${JSON.stringify(value)}\n`);
}

/**
 * A byte stream for the request body, pulled as fetch sends: a file of millions of lines never
 * sits in memory. Strings and bytes pass through as they are (a file read in chunks); anything
 * else is one record, written as one line.
 */
export function ndjsonStream(source: NdjsonSource): ReadableStream<Uint8Array> {
  if (source instanceof ReadableStream) return source;
  const iterator = Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(chunkOf(next.value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** The JSON records of an NDJSON answer, one per line, as they arrive. */
export async function* ndjsonRecords<T>(body: ReadableStream<Uint8Array> | null): AsyncGenerator<T> {
  if (!body) return;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = body.getReader();
  let rest = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      rest += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) yield JSON.parse(line) as T;
      if (done) break;
    }
    if (rest.trim()) yield JSON.parse(rest) as T;
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
