/**
 * Snapshot files as numbered chunks of bytes in the database (PostgreSQL), behind the snapshot
 * store that streams them (src/snapshots/postgres.ts). A version is invisible until `complete`.
 */
export interface SnapshotBlobRepository {
  /** Starts a version (incomplete) with its manifest; an earlier incomplete attempt of it is replaced. */
  begin(model: string, version: string, manifest: string, now: number): Promise<void>;
  putChunk(model: string, version: string, file: string, seq: number, data: Uint8Array): Promise<void>;
  /** Makes the version visible; false when it was deleted meanwhile. */
  complete(model: string, version: string): Promise<boolean>;
  /** The manifest of a complete version, or null. */
  manifest(model: string, version: string): Promise<string | null>;
  /** One chunk of a file of a complete version, or null past its last. */
  chunk(model: string, version: string, file: string, seq: number): Promise<Uint8Array | null>;
  remove(model: string, version: string): Promise<void>;
  /** Complete versions, oldest first. */
  list(model?: string): Promise<{ model: string; version: string }[]>;
  /** Incomplete versions started before `before`. */
  incomplete(before: number): Promise<{ model: string; version: string }[]>;
}
