/** Lets pending I/O and requests run before the next slice of a long computation. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Slice length for loops on the API's event loop: a request waiting behind one waits at most
 * about this long (the lag target is 100 ms; a slice leaves room for the requests in between).
 */
export const SLICE_MS = 10;

/**
 * Time-sliced work on the event loop: `await budget.pause()` between units of work yields to I/O
 * once the slice is spent. Awaiting an already-settled promise never yields (it runs as a
 * microtask), so a loop over synchronous SQLite reads, or over a stream whose data is already
 * buffered, held the loop for its whole run (a 1M-row export: 4.1 s) until it paused this way.
 */
export class TimeBudget {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  async pause(): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await yieldToEventLoop();
    this.sliceStart = performance.now();
  }
}
