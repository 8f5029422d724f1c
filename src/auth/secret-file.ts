import fs from 'node:fs';
import path from 'node:path';

const MIN_SECRET_LENGTH = 16;

/**
 * Reads a secret kept in a file (tightening its mode to 0600), or creates the file with a new
 * secret when it does not exist. `created` says which. Two processes starting together agree:
 * the file is created exclusively and the loser reads the winner's secret.
 */
export function readOrCreateSecret(file: string, generate: () => string): { secret: string; created: boolean } {
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length < MIN_SECRET_LENGTH) {
      throw new Error(`secret file ${file} holds fewer than ${MIN_SECRET_LENGTH} characters; delete it to generate a new one`);
    }
    fs.chmodSync(file, 0o600);
    return { secret: existing, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = generate();
  try {
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: readOrCreateSecret(file, generate).secret, created: false };
    throw err;
  }
  return { secret, created: true };
}
