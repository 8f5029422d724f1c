/**
 * Request-body bytes per key per fixed one-minute window. @fastify/rate-limit counts requests,
 * not bytes, so this small counter sits beside it; it holds one entry per key name that sent a
 * body this window (a bounded set: key names are created by admins).
 */
export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Bytes per key per window, wherever they are counted (this process, or Redis for all replicas). */
export interface BytesLimiter {
  take(key: string, bytes: number, limit: number): Taken | Promise<Taken>;
  /** Drops windows that ended. */
  sweep(): void;
}

export class ByteBudget implements BytesLimiter {
  private readonly used = new Map<string, { windowStart: number; bytes: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Charges `bytes` to `key`; when that would pass `limit`, charges nothing and says how long to wait (seconds). */
  take(key: string, bytes: number, limit: number): Taken {
    const now = this.now();
    let entry = this.used.get(key);
    if (!entry || now - entry.windowStart >= this.windowMs) {
      entry = { windowStart: now, bytes: 0 };
      this.used.set(key, entry);
    }
    // A single body larger than the whole budget could never pass: it is refused like any excess.
    if (entry.bytes + bytes > limit) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((entry.windowStart + this.windowMs - now) / 1000)) };
    entry.bytes += bytes;
    return { ok: true };
  }

  /** Drops windows that ended (called from a timer, so idle keys do not stay in memory). */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.used) if (now - entry.windowStart >= this.windowMs) this.used.delete(key);
  }
}
