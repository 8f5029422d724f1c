/**
 * A value computed off the event loop (a database thread) that requests only ever read ready: it
 * is recomputed on a timer every `refreshMs` after `changed()` was called (at once while `starved`
 * says the value is useless, e.g. an empty ranking), one computation at a time; a failed one keeps
 * the previous value.
 */
export class Refreshed<T> {
  private dirty = true;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastStart = 0;

  constructor(
    private current: T,
    private readonly compute: (now: number) => Promise<T>,
    private readonly refreshMs: number,
    private readonly onError: (err: Error) => void,
    private readonly starved: (value: T) => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {}

  get value(): T {
    return this.current;
  }

  /** Replaces the value (one computed elsewhere). */
  set(value: T): void {
    this.current = value;
  }

  /** Computes the first value and keeps it fresh on a timer. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => this.refreshIfDue(), Math.min(this.refreshMs, 1000));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The data changed: recompute within `refreshMs`, or at once while the value is starved. */
  changed(): void {
    this.dirty = true;
    if (this.starved(this.current)) this.refreshIfDue(true);
  }

  private refreshIfDue(force = false): void {
    if (!this.dirty || this.running) return;
    if (!force && this.now() - this.lastStart < this.refreshMs) return;
    void this.refresh();
  }

  /** Recomputes now (coalesced with one already running); readers keep the old value meanwhile. */
  refresh(): Promise<void> {
    if (this.running) return this.running;
    this.dirty = false;
    this.lastStart = this.now();
    let failed = false;
    this.running = this.compute(this.now())
      .then((v) => {
        this.current = v;
      })
      .catch((err: unknown) => {
        failed = true;
        this.dirty = true;
        this.onError(err as Error);
      })
      .finally(() => {
        this.running = null;
        // A change that arrived while this ran, with the value still useless: do not wait a
        // period (after a failure the timer retries, so a broken source is not asked in a loop).
        if (!failed && this.dirty && this.starved(this.current)) this.refreshIfDue(true);
      });
    return this.running;
  }
}
