interface ShutdownLog {
  info(obj: object, msg: string): void;
  info(msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShutdownMessages {
  /** Logged when a signal arrives. */
  stopping: string;
  /** Logged when `close` did not finish within the timeout (the process then exits 1). */
  timedOut: string;
  stopped: string;
}

/**
 * On SIGTERM/SIGINT (once): log, run `close`, exit 0 when it finishes or 1 when it fails or
 * outlasts `timeoutMs`. The API and the worker share this; what "close" means differs.
 */
export function installShutdown(close: () => Promise<unknown>, timeoutMs: number, log: ShutdownLog, messages: ShutdownMessages): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, messages.stopping);
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, messages.timedOut);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => {
        log.info(messages.stopped);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
