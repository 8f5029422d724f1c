import { yieldToEventLoop } from '../scheduling/yield.js';

/** Ids decoded between yields to the event loop (a 1M-id list would otherwise be one ~100 ms parse). */
const SLICE_IDS = 20_000;

/**
 * A list of ids as a snapshot stores it: count (uint32), count + 1 byte offsets (uint32) into the
 * UTF-8 bytes that follow, little-endian. Any string can be an id (newlines included), so
 * lengths, not separators, delimit them; and the offsets let a reader decode a slice at a time
 * instead of one JSON.parse that holds the loop for the whole list.
 */
export function encodeIds(ids: readonly string[]): Uint8Array {
  const encoded = ids.map((id) => Buffer.from(id, 'utf8'));
  const textBytes = encoded.reduce((s, b) => s + b.byteLength, 0);
  const head = 4 * (ids.length + 2);
  if (head + textBytes > 2 ** 32 - 1) throw new Error('an id list over 4 GiB');
  const out = Buffer.alloc(head + textBytes);
  out.writeUInt32LE(ids.length, 0);
  let at = 0;
  encoded.forEach((b, k) => {
    out.writeUInt32LE(at, 4 * (k + 1));
    b.copy(out, head + at);
    at += b.byteLength;
  });
  out.writeUInt32LE(at, 4 * (ids.length + 1));
  return out;
}

/** The ids of an {@link encodeIds} file, decoded in slices; refuses a file whose offsets do not fit it. */
export async function decodeIdsInSlices(bytes: Uint8Array): Promise<string[]> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.byteLength < 8) throw new Error(`an id list of ${buf.byteLength} bytes`);
  const count = buf.readUInt32LE(0);
  const head = 4 * (count + 2);
  if (head > buf.byteLength || buf.readUInt32LE(4 * (count + 1)) !== buf.byteLength - head) throw new Error(`an id list of ${buf.byteLength} bytes does not hold ${count} ids`);
  const ids = new Array<string>(count);
  for (let k = 0; k < count; k++) {
    const from = buf.readUInt32LE(4 * (k + 1));
    const to = buf.readUInt32LE(4 * (k + 2));
    if (to < from) throw new Error(`id ${k} has a negative length`);
    ids[k] = buf.toString('utf8', head + from, head + to);
    if (k % SLICE_IDS === SLICE_IDS - 1) await yieldToEventLoop();
  }
  return ids;
}
