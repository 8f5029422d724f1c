/**
 * Where model snapshots live between the process that trains them and the processes that serve
 * them. A snapshot is a directory of files whose `manifest.json` lists every other file with its
 * size and SHA-256; a store keeps such directories as versions, never shows one before it is
 * complete, and hands a version back as a local directory whose files match the manifest.
 */
export interface StoredVersion {
  model: string;
  version: string;
}

export interface SnapshotStore {
  readonly kind: 'directory' | 'postgres' | 's3';
  /**
   * Makes the complete snapshot in `stagedDir` (written by this process, manifest last) the
   * stored version `model/version`, atomically: readers see all of it or nothing. The staged dir
   * is consumed. Returns the locator the models table records.
   */
  publish(model: string, version: string, stagedDir: string): Promise<string>;
  /** A local directory with the version's files, each checked against the manifest; throws when one does not match. */
  materialize(model: string, version: string, locator: string): Promise<string>;
  /** Deletes the version (and any local copy); deleting one that is gone is not an error. */
  delete(model: string, version: string, locator: string): Promise<void>;
  /** Complete versions, oldest first. */
  list(model?: string): Promise<StoredVersion[]>;
  /** Removes uploads that never completed (their writer died) and this process's staging and download folders left the same way, older than `maxAgeMs`; how many. */
  removeIncomplete(maxAgeMs?: number, now?: number): Promise<number>;
}

/** An upload younger than this may still be in progress in another process. */
export const STALE_UPLOAD_MS = 3600_000;

export class SnapshotIntegrityError extends Error {}
