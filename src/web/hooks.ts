import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | null;
  /** True once a load finished (so a null `data` means "none", not "not yet"). */
  loaded: boolean;
  error: string | null;
  reload: () => void;
}

/** Loads `load()` now, again whenever `deps` change, and every `everyMs` when given (stops on unmount). */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = 0): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const latest = useRef(load);
  latest.current = load;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    let live = true;
    const run = (): void => {
      latest.current().then(
        (v) => {
          if (!live) return;
          setData(v);
          setLoaded(true);
          setError(null);
        },
        (err: unknown) => live && setError((err as Error).message),
      );
    };
    run();
    const timer = everyMs > 0 ? setInterval(run, everyMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick, everyMs]);
  return { data, loaded, error, reload };
}
