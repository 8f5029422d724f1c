import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { SnapshotIntegrityError } from './store.js';

export const MANIFEST = 'manifest.json';
const VERSION = /^[A-Za-z0-9_-]{1,64}$/;
const MODEL = /^[a-z][a-z0-9-]{0,31}$/;

/** What a store needs of a manifest: the files it lists (every file but itself). */
const listing = z.object({ files: z.record(z.string(), z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })) });
export type FileListing = z.infer<typeof listing>['files'];

/** A version's file names, from its manifest; a path that could leave the version's folder is refused. */
export function parseListing(text: string): FileListing {
  const files = listing.parse(JSON.parse(text)).files;
  for (const name of Object.keys(files)) if (name.split('/').some((p) => p === '..' || p === '' || p === '.') || name.startsWith('/')) throw new SnapshotIntegrityError(`manifest lists an unsafe path ${name}`);
  return files;
}

export const readListing = async (dir: string): Promise<FileListing> => parseListing(await readFile(join(dir, MANIFEST), 'utf8'));

/** Refuses a model or version name that could escape its folder or key prefix. */
export function checkNames(model: string, version: string): void {
  if (!MODEL.test(model) || !VERSION.test(version)) throw new Error(`unsafe snapshot name ${model}/${version}`);
}

/** Hashes a file chunk by chunk (a 256 MB embedding file must not hold the event loop). */
export async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** fsync of a file or a folder (a folder's entries: a rename or a new file in it). */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Checks every file a folder's manifest lists; throws naming the first that does not match. */
export async function verifyFolder(dir: string): Promise<string> {
  for (const [name, want] of Object.entries(await readListing(dir))) {
    const got = await fileDigest(join(dir, name)).catch(() => ({ bytes: -1, sha256: '' }));
    if (got.bytes !== want.bytes || got.sha256 !== want.sha256) throw new SnapshotIntegrityError(`snapshot ${dir}: ${name} does not match its checksum`);
  }
  return dir;
}

/**
 * Copies a remote version into `final` through a temp dir beside it: each file is written by
 * `fetch`, checked against the manifest, and the dir renamed into place only when all match. A
 * reader never finds a half-downloaded version under `final`.
 */
export async function downloadInto(final: string, manifest: string, fetch: (name: string, to: string) => Promise<void>): Promise<string> {
  const files = parseListing(manifest);
  const tmp = join(dirname(final), `.download-${basename(final)}-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, want] of Object.entries(files)) {
      const to = join(tmp, name);
      await mkdir(dirname(to), { recursive: true });
      await fetch(name, to);
      const got = await fileDigest(to);
      if (got.bytes !== want.bytes || got.sha256 !== want.sha256) throw new SnapshotIntegrityError(`${name} does not match its checksum (${got.bytes} bytes, expected ${want.bytes})`);
    }
    const fh = await open(join(tmp, MANIFEST), 'w');
    await fh.writeFile(manifest);
    await fh.sync();
    await fh.close();
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    return final;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The local folder a version is kept in (the directory store's home, the other stores' cache). */
export const localDir = (modelDir: string, model: string, version: string): string => join(modelDir, model, version);

/** The writer keeps its staged copy as the local copy (serving in its process then needs no download). */
export async function keepLocalCopy(stagedDir: string, final: string): Promise<void> {
  if (stagedDir === final) return;
  await rm(final, { recursive: true, force: true });
  await rename(stagedDir, final);
}
