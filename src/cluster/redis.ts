import { Redis } from 'ioredis';
import type { Config } from '../config.js';

/** A Redis connection for what a deployment's API replicas share beyond the database. */
export interface DeploymentRedis {
  redis: Redis;
  /** Keys of this deployment (its queue name) for one purpose, so deployments sharing a Redis stay apart. */
  prefix(purpose: 'limits' | 'serving'): string;
  close(): void;
}

/**
 * With REDIS_URL, replicas share per-key limits and the serving chart through Redis; without it
 * there is one process and nothing to share. Commands fail fast while Redis is down (no offline
 * queue), and every user of this connection then falls back to what this process knows.
 */
export function deploymentRedis(config: Pick<Config, 'redisUrl' | 'queueName'>): DeploymentRedis | undefined {
  if (!config.redisUrl) return undefined;
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  // Reconnects by itself; a failed command is handled where it is made.
  redis.on('error', () => undefined);
  return { redis, prefix: (purpose) => `recflow:${config.queueName}:${purpose}:`, close: () => redis.disconnect() };
}
