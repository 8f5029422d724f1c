/** Numerically stable sigmoid. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Binary cross-entropy of logit `z` against target `y ∈ [0, 1]`, stable for large |z|. */
export function bceWithLogits(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/** Copies rows `ids[k]` of a row-major table into `out` (row k at `k * stride + offset`). */
export function gatherRows(
  table: Float32Array,
  cols: number,
  ids: Int32Array,
  out: Float32Array,
  stride = cols,
  offset = 0,
): void {
  for (let k = 0; k < ids.length; k++) {
    const src = ids[k] * cols;
    const dst = k * stride + offset;
    for (let f = 0; f < cols; f++) out[dst + f] = table[src + f];
  }
}

export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let f = 0; f < n; f++) s += a[aOff + f] * b[bOff + f];
  return s;
}
