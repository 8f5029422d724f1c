/** `--name value` from the command line, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The admin token the bench servers are started with, and the header that sends it. */
export const BENCH_TOKEN = 'bench-admin-token-0123456789';
export const BENCH_AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };
