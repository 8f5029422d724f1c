import { createReadStream } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotBlobRepository } from '../db/snapshot-blobs-repository.js';
import { checkNames, downloadInto, keepLocalCopy, localDir, MANIFEST, parseListing } from './files.js';
import { removeTempFolders } from './directory.js';
import { STALE_UPLOAD_MS, type SnapshotStore, type StoredVersion } from './store.js';

/** 4 MiB per row: a 256 MB file is 64 statements, and no statement holds more than a chunk. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
export const POSTGRES_LOCATOR = 'postgres:';

/** Test hook: runs after the last chunk, before the version is made visible. */
export const postgresStoreFaults: { beforeComplete?: () => Promise<void> } = {};

/**
 * Versions in the shared database: a replica on another host needs only DATABASE_URL. Files go
 * up and come down one chunk at a time (memory bounded by a chunk, not a file); MODEL_DIR keeps
 * each process's local copy, which the serving process reads and verifies.
 */
export class PostgresStore implements SnapshotStore {
  readonly kind = 'postgres' as const;
  constructor(
    private readonly blobs: SnapshotBlobRepository,
    readonly modelDir: string,
  ) {}

  async publish(model: string, version: string, stagedDir: string): Promise<string> {
    checkNames(model, version);
    const manifest = await readFile(join(stagedDir, MANIFEST), 'utf8');
    await this.blobs.begin(model, version, manifest, Date.now());
    try {
      for (const name of Object.keys(parseListing(manifest))) await this.upload(model, version, name, join(stagedDir, name));
      await postgresStoreFaults.beforeComplete?.();
      if (!(await this.blobs.complete(model, version))) throw new Error(`snapshot ${model}/${version} was deleted while it was uploaded`);
    } catch (err) {
      await this.blobs.remove(model, version).catch(() => undefined);
      throw err;
    }
    // The writer keeps its copy: serving in this process reads it without a download.
    await keepLocalCopy(stagedDir, localDir(this.modelDir, model, version));
    return `${POSTGRES_LOCATOR}${model}/${version}`;
  }

  private async upload(model: string, version: string, name: string, path: string): Promise<void> {
    let seq = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) await this.blobs.putChunk(model, version, name, seq++, chunk as Buffer);
    // An empty file still has one (empty) chunk, so a reader can tell it from a missing one.
    if (seq === 0) await this.blobs.putChunk(model, version, name, 0, new Uint8Array(0));
  }

  async materialize(model: string, version: string): Promise<string> {
    checkNames(model, version);
    const final = localDir(this.modelDir, model, version);
    if (await readFile(join(final, MANIFEST)).then(() => true, () => false)) return final;
    const manifest = await this.blobs.manifest(model, version);
    if (manifest === null) throw new Error(`snapshot ${model}/${version} is not in the database`);
    return downloadInto(final, manifest, async (name, to) => {
      const fh = await open(to, 'w');
      try {
        for (let seq = 0; ; seq++) {
          const chunk = await this.blobs.chunk(model, version, name, seq);
          if (chunk === null) break;
          await fh.write(chunk);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  async delete(model: string, version: string): Promise<void> {
    checkNames(model, version);
    await this.blobs.remove(model, version);
    await rm(localDir(this.modelDir, model, version), { recursive: true, force: true });
  }

  list(model?: string): Promise<StoredVersion[]> {
    return this.blobs.list(model);
  }

  async removeIncomplete(maxAgeMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    const stale = await this.blobs.incomplete(now - maxAgeMs);
    for (const v of stale) await this.blobs.remove(v.model, v.version);
    return stale.length + (await removeTempFolders(this.modelDir, maxAgeMs, now));
  }
}
