import { AppError } from '../errors.js';
import { decodeUtf8 } from './strict-json.js';

export interface NdjsonLimits {
  /** Longest line, in bytes: past it the import stops at once, without buffering the rest. */
  maxLineBytes: number;
  /** Longest body, in bytes. */
  maxBytes: number;
}

export interface NdjsonLine {
  /** 1-based. */
  line: number;
  text: string;
}

const NEWLINE = 0x0a;

const lineTooLong = (line: number, max: number): AppError =>
  new AppError(413, 'payload_too_large', `Line ${line} is longer than ${max} bytes`, [{ path: `line ${line}`, message: `must be at most ${max} bytes (IMPORT_MAX_LINE_BYTES)` }]);

/** Bytes of a line without a trailing carriage return (files written on Windows). */
const withoutCr = (bytes: Buffer): Buffer => (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes);

/**
 * The lines of a streamed NDJSON body, each decoded as strict UTF-8 (an invalid byte stops the
 * import naming its line). Unlike readline, which buffers a line however long it grows (one
 * 400 MB line took 819 MB and stalled the API for 4.3 s), a line past `maxLineBytes` is refused
 * as soon as that many bytes have arrived, and the body past `maxBytes`.
 */
export async function* ndjsonLines(input: AsyncIterable<Buffer | string>, limits: NdjsonLimits): AsyncGenerator<NdjsonLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let line = 0;
  const take = (piece: Buffer): Buffer => {
    const bytes = pendingBytes > 0 ? Buffer.concat([...pending, piece]) : piece;
    pending = [];
    pendingBytes = 0;
    return bytes;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > limits.maxBytes) throw new AppError(413, 'payload_too_large', `The body is larger than ${limits.maxBytes} bytes`, [{ path: 'body', message: `must be at most ${limits.maxBytes} bytes (IMPORT_MAX_BYTES); split the file` }]);
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      line++;
      if (pendingBytes + nl - start > limits.maxLineBytes) throw lineTooLong(line, limits.maxLineBytes);
      yield { line, text: decodeUtf8(withoutCr(take(chunk.subarray(start, nl))), `line ${line}`) };
      start = nl + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > limits.maxLineBytes) throw lineTooLong(line + 1, limits.maxLineBytes);
      pending.push(chunk.subarray(start));
    }
  }
  if (pendingBytes > 0) yield { line: line + 1, text: decodeUtf8(withoutCr(take(Buffer.alloc(0))), `line ${line + 1}`) };
}
