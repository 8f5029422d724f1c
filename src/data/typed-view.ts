/**
 * `length` elements of `T` over `bytes` (a file just read): a view where the bytes are aligned
 * for `T`, else a view of an aligned copy. A copy of a 256 MB matrix is 256 MB more and a stall.
 */
export function typedView<T extends Float32Array | Float64Array | Int32Array>(bytes: Uint8Array, Ctor: { new (b: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }, length: number): T {
  const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  return new Ctor(aligned.buffer, aligned.byteOffset, length);
}
