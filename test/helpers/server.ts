import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { exited, freePort, spawnEntry, waitForHttp } from './processes.js';
import { ADMIN_TOKEN, tempDir } from './app.js';

export interface RunningServer {
  base: string;
  adminToken: string;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * recflow as a real process on a free port (embedded SQLite, in-process jobs) over a fresh temp
 * dir: what a client library meets. `stop` ends it and removes the dir.
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const { dir, cleanup } = tempDir('recflow-server-');
  const port = await freePort();
  const child = spawnEntry('src/main.ts', { DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), ADMIN_TOKEN, PORT: String(port), MODEL_POLL_MS: '200', ...env });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    cleanup();
  };
  try {
    await waitForHttp(`${base}/readyz`);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${(child as unknown as { stderrText: string }).stderrText}`);
  }
  return { base, adminToken: ADMIN_TOKEN, dir, process: child, stop };
}
