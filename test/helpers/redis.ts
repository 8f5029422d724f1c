import { spawn, type ChildProcess } from 'node:child_process';
import { until } from './training.js';

/** A private redis-server (no persistence) a test may stop, pause and restart; the machine's own stays untouched. */
export function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
}

/** Resolves once a redis-server answers PING on `port`. */
export async function redisUp(port: number): Promise<void> {
  const { Redis } = await import('ioredis');
  await until(async () => {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  }, 10_000, `redis on ${port}`);
}
