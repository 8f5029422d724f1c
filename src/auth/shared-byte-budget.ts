import type { Redis } from 'ioredis';
import { ByteBudget, type BytesLimiter, type Taken } from './byte-budget.js';

/**
 * Charges `bytes` to a key's current window unless that would pass the limit; returns 0 when
 * charged, else the milliseconds until the window ends. One script, so replicas cannot both
 * squeeze under the limit between a read and a write.
 */
const TAKE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[3]) end
  return ttl
end
redis.call('INCRBY', KEYS[1], ARGV[1])
if used == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 0
`;

/**
 * Request-body bytes per key per one-minute window, counted in Redis so every API replica
 * charges the same budget. While Redis is unreachable each process falls back to its own
 * window (limits then apply per process, as without Redis) rather than refusing traffic.
 */
export class SharedByteBudget implements BytesLimiter {
  private readonly fallback: ByteBudget;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs = 60_000,
  ) {
    this.fallback = new ByteBudget(windowMs);
  }

  async take(key: string, bytes: number, limit: number): Promise<Taken> {
    try {
      const wait = Number(await this.redis.eval(TAKE, 1, `${this.prefix}${key}`, bytes, limit, this.windowMs));
      return wait === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
    } catch {
      return this.fallback.take(key, bytes, limit);
    }
  }

  sweep(): void {
    this.fallback.sweep();
  }
}
