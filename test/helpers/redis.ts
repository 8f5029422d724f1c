import { spawn, type ChildProcess } from 'node:child_process';
import { exited, freePort } from './processes.js';
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

/** A private Redis on a free port, answering before this resolves; `stop()` belongs in the test's cleanups. */
export class PrivateRedis {
  private constructor(
    readonly port: number,
    public process: ChildProcess,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const port = await freePort();
    const redis = new PrivateRedis(port, startRedis(port));
    await redisUp(port);
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Killed outright: everything it held is gone. */
  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    await exited(this.process);
  }

  /** Started again on the same port, empty. */
  async restart(): Promise<void> {
    this.process = startRedis(this.port);
    await redisUp(this.port);
  }

  stop(): void {
    this.process.kill('SIGKILL');
  }
}
