import { Redis } from 'ioredis';
import type { Config } from '../config.js';

export interface SharedLimits {
  redis: Redis;
  /** Keys of this deployment (its queue name), so deployments sharing a Redis count apart. */
  prefix: string;
  close(): void;
}

/**
 * With REDIS_URL, the per-key limits live in Redis, shared by every API replica; without it
 * there is one process and nothing to share. Commands fail fast while Redis is down (no offline
 * queue), and the limiters then fall back to counting in this process.
 */
export function sharedLimits(config: Pick<Config, 'redisUrl' | 'queueName'>): SharedLimits | undefined {
  if (!config.redisUrl) return undefined;
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  // Reconnects by itself; a failed command is handled where it is made.
  redis.on('error', () => undefined);
  return { redis, prefix: `recflow:${config.queueName}:limits:`, close: () => redis.disconnect() };
}
