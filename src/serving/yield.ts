/** Lets pending I/O and requests run before the next slice of a long computation. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
