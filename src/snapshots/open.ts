import { S3Client } from '@aws-sdk/client-s3';
import type { Store } from '../db/store.js';
import { rm } from 'node:fs/promises';
import { DirectoryStore } from './directory.js';
import { checkNames, localDir } from './files.js';
import { PostgresStore } from './postgres.js';
import { parseS3Url, S3Store } from './s3.js';
import type { SnapshotStore } from './store.js';

export interface SnapshotStoreSettings {
  modelDir: string;
  /** `s3://bucket/prefix`: object storage; unset: the database when it can hold them, else MODEL_DIR. */
  snapshotUrl: string | undefined;
  /** An S3-compatible endpoint (MinIO, Ceph, a local server); unset: AWS by its region. */
  s3Endpoint: string | undefined;
  s3Region: string;
}

/**
 * The store a deployment keeps its snapshots in: S3 when SNAPSHOT_URL names a bucket, the
 * database when it is PostgreSQL (replicas share nothing else), MODEL_DIR otherwise.
 */
export function openSnapshotStore(settings: SnapshotStoreSettings, store: Pick<Store, 'snapshotBlobs'>): SnapshotStore {
  if (settings.snapshotUrl) {
    // Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID and friends, a profile, an instance role).
    const client = new S3Client({ region: settings.s3Region, ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint, forcePathStyle: true } : {}) });
    return new S3Store(client, parseS3Url(settings.snapshotUrl), settings.modelDir);
  }
  if (store.snapshotBlobs) return new PostgresStore(store.snapshotBlobs, settings.modelDir);
  return new DirectoryStore(settings.modelDir);
}

/** The store a locator recorded in the models table belongs to: a version written before a change of store stays readable where it was. */
export function storeForLocator(locator: string, current: SnapshotStore, fallback: DirectoryStore): SnapshotStore {
  if (locator.startsWith('s3://')) return current.kind === 's3' ? current : throwUnreadable(locator);
  if (locator.startsWith('postgres:')) return current.kind === 'postgres' ? current : throwUnreadable(locator);
  return fallback;
}

function throwUnreadable(locator: string): never {
  throw new Error(`snapshot ${locator} is in a store this process is not configured for`);
}

/** How serving gets a registered version's local folder, whichever store holds it. */
export function localCopyOf(current: SnapshotStore, modelDir: string): (v: { model: string; version: string; path: string }) => Promise<string> {
  const directory = current instanceof DirectoryStore ? current : new DirectoryStore(modelDir);
  return (v) => storeForLocator(v.path, current, directory).materialize(v.model, v.version, v.path);
}

/**
 * Forgets this process's downloaded copy of a version it stopped serving (remote stores only:
 * in the directory store the folder is the version itself). A rollback downloads it again.
 */
export function releaseLocalCopy(current: SnapshotStore, modelDir: string): (model: string, version: string) => Promise<void> {
  if (current.kind === 'directory') return async () => undefined;
  return async (model, version) => {
    checkNames(model, version);
    await rm(localDir(modelDir, model, version), { recursive: true, force: true });
  };
}
