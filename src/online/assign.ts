import crypto from 'node:crypto';

/** A user's fixed point in [0, 1) for one experiment: the same user always lands in the same variant. */
export function unitHash(experimentId: string, userId: string): number {
  const digest = crypto.createHash('sha256').update(experimentId).update('\0').update(userId).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The variant whose share covers the user's point (shares sum to 1; the last takes any rounding). */
export function assignVariant<V extends { share: number }>(variants: readonly V[], point: number): V {
  let edge = 0;
  for (const v of variants) {
    edge += v.share;
    if (point < edge) return v;
  }
  return variants[variants.length - 1];
}
