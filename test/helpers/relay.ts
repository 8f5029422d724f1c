import net from 'node:net';

/**
 * A TCP relay to a server (the machine's PostgreSQL) that can be cut (listener closed, every
 * connection reset) and restored: a database outage or partition without touching the server
 * other tests use.
 */
export class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** Connections open through the relay now. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
    this.server = null;
  }
}

/** `url` with its port replaced by the relay's. */
export function throughRelay(url: string, relay: Relay): string {
  const via = new URL(url);
  via.hostname = '127.0.0.1';
  via.port = String(relay.port);
  return via.toString();
}
