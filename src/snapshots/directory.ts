import { access, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNames, fsyncPath, localDir, MANIFEST, verifyFolder } from './files.js';
import { STALE_UPLOAD_MS, type SnapshotStore, type StoredVersion } from './store.js';

const TEMP = /^\.(tmp|download)-/;

/**
 * Versions as folders under MODEL_DIR (the embedded default): publishing is one rename, so a
 * crash leaves the complete folder or none. Every process that serves must see the same folder.
 */
export class DirectoryStore implements SnapshotStore {
  readonly kind = 'directory' as const;
  constructor(readonly modelDir: string) {}

  async publish(model: string, version: string, stagedDir: string): Promise<string> {
    checkNames(model, version);
    const final = localDir(this.modelDir, model, version);
    if (stagedDir === final) return final;
    await rename(stagedDir, final);
    await fsyncPath(join(this.modelDir, model));
    return final;
  }

  /** The folder the models table names (an older row may name one outside MODEL_DIR, on a shared volume), every file checked. */
  materialize(_model: string, _version: string, locator: string): Promise<string> {
    return verifyFolder(locator);
  }

  async delete(model: string, version: string): Promise<void> {
    checkNames(model, version);
    await rm(localDir(this.modelDir, model, version), { recursive: true, force: true });
  }

  async list(model?: string): Promise<StoredVersion[]> {
    const out: StoredVersion[] = [];
    for (const m of model ? [model] : await readdir(this.modelDir).catch(() => [])) {
      for (const v of (await readdir(join(this.modelDir, m)).catch(() => [] as string[])).sort()) {
        if (TEMP.test(v)) continue;
        if (await access(join(this.modelDir, m, v, MANIFEST)).then(() => true, () => false)) out.push({ model: m, version: v });
      }
    }
    return out;
  }

  /** Temp folders of writers and downloads that died; only those older than `maxAgeMs` (a live one may be newer). */
  async removeIncomplete(maxAgeMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    return removeTempFolders(this.modelDir, maxAgeMs, now);
  }
}

/** Staging and download folders under MODEL_DIR left by processes that died; every store keeps its local copies there. */
export async function removeTempFolders(modelDir: string, maxAgeMs: number, now: number): Promise<number> {
  let removed = 0;
  for (const model of await readdir(modelDir).catch(() => [] as string[])) {
    for (const entry of (await readdir(join(modelDir, model)).catch(() => [] as string[])).filter((e) => TEMP.test(e))) {
      const dir = join(modelDir, model, entry);
      const info = await stat(dir).catch(() => null);
      if (info && now - info.mtimeMs > maxAgeMs) {
        await rm(dir, { recursive: true, force: true });
        removed++;
      }
    }
  }
  return removed;
}
