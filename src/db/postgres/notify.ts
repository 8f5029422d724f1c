import pg from 'pg';

/** One channel for the deployment; the payload names the schema, so deployments sharing a database stay apart. */
export const SERVING_CHANNEL = 'recflow_serving';
const RECONNECT_MS = 2000;

/**
 * Listens for serving changes on a connection of its own (LISTEN holds a session, so it cannot
 * come from the pool). A lost connection is reopened every couple of seconds; meanwhile the
 * model store's polling is the signal, and a reconnect counts as a change (one may have been missed).
 */
export async function listenForServingChanges(url: string, schema: string, onChange: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (first: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      if (msg.channel === SERVING_CHANNEL && msg.payload === schema) onChange();
    });
    c.on('error', () => reconnect(c));
    c.on('end', () => reconnect(c));
    await c.connect();
    await c.query(`LISTEN ${SERVING_CHANNEL}`);
    if (stopped) return void (await c.end());
    client = c;
    if (!first) onChange();
  };
  const reconnect = (failed: pg.Client): void => {
    if (stopped || client !== failed) return;
    client = null;
    failed.end().catch(() => undefined);
    const attempt = (): void => {
      retry = setTimeout(() => connect(false).catch(attempt), RECONNECT_MS);
      retry.unref();
    };
    attempt();
  };
  await connect(true);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    client = null;
    await c?.end().catch(() => undefined);
  };
}
