import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { StoreChange } from '../store.js';
import type { Queryable } from './pool.js';

/** One channel for the deployment; the payload names the schema, so deployments sharing a database stay apart. */
export const CHANGES_CHANNEL = 'recflow_changes';
const RECONNECT_MS = 2000;
/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD = 7500;
/** Past this many users in one announcement, the others drop every cached answer instead. */
const MAX_LISTED_USERS = 2000;

interface Envelope {
  /** Schema: deployments sharing a database ignore each other. */
  s: string;
  /** Origin: a process ignores what it announced itself. */
  o: string;
  c: StoreChange;
}

/** The payloads announcing `change`: a long user list is split to fit NOTIFY's limit. */
export function payloads(schema: string, origin: string, change: StoreChange): string[] {
  const envelope = (c: StoreChange): string => JSON.stringify({ s: schema, o: origin, c } satisfies Envelope);
  if (change.kind !== 'users' || change.users === 'all') return [envelope(change)];
  if (change.users.length > MAX_LISTED_USERS) return [envelope({ kind: 'users', users: 'all' })];
  const out: string[] = [];
  let chunk: string[] = [];
  let size = envelope({ kind: 'users', users: [] }).length;
  for (const user of change.users) {
    const cost = JSON.stringify(user).length + 1;
    if (chunk.length > 0 && size + cost > MAX_PAYLOAD) {
      out.push(envelope({ kind: 'users', users: chunk }));
      chunk = [];
      size = envelope({ kind: 'users', users: [] }).length;
    }
    chunk.push(user);
    size += cost;
  }
  if (chunk.length > 0) out.push(envelope({ kind: 'users', users: chunk }));
  return out;
}

export function announcer(db: Queryable, schema: string, origin: string): (change: StoreChange) => Promise<void> {
  return async (change) => {
    for (const p of payloads(schema, origin, change)) await db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, p]);
  };
}

export const newOrigin = (): string => randomUUID();

/**
 * Listens for other processes' announcements on a connection of its own (LISTEN holds a session,
 * so it cannot come from the pool). A lost connection is reopened every couple of seconds;
 * meanwhile polling and cache TTLs are the signals, and a reconnect counts as a change of
 * everything (some may have been missed).
 */
export async function listenForChanges(url: string, schema: string, origin: string, onChange: (change: StoreChange) => void): Promise<() => Promise<void>> {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const receive = (payload: string | undefined): void => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload ?? '') as Envelope;
    } catch {
      return;
    }
    if (envelope.s === schema && envelope.o !== origin) onChange(envelope.c);
  };
  const connect = async (first: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      if (msg.channel === CHANGES_CHANNEL) receive(msg.payload);
    });
    c.on('error', () => reconnect(c));
    c.on('end', () => reconnect(c));
    await c.connect();
    await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (stopped) return void (await c.end());
    client = c;
    if (!first) {
      onChange({ kind: 'serving' });
      onChange({ kind: 'users', users: 'all' });
    }
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
