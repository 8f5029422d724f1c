import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/db/postgres/store.js';
import type { Store } from '../../src/db/store.js';
import { DirectoryStore } from '../../src/snapshots/directory.js';
import { CHUNK_BYTES, PostgresStore, postgresStoreFaults } from '../../src/snapshots/postgres.js';
import { S3Store, s3StoreFaults } from '../../src/snapshots/s3.js';
import type { SnapshotStore } from '../../src/snapshots/store.js';
import { tempDir } from '../helpers/app.js';
import { privateSchema } from '../helpers/postgres.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A snapshot folder as a trainer stages it: files of every size class, then the manifest listing them. */
function stage(root: string, name: string, sizes: Record<string, number>): { dir: string; files: Record<string, Buffer> } {
  const dir = join(root, name);
  const files: Record<string, Buffer> = {};
  for (const [file, size] of Object.entries(sizes)) {
    const data = Buffer.alloc(size);
    for (let k = 0; k < size; k++) data[k] = (k * 31 + file.length) & 255;
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), data);
    files[file] = data;
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'test', files: Object.fromEntries(Object.entries(files).map(([f, d]) => [f, { bytes: d.byteLength, sha256: sha256(d) }])) }));
  return { dir, files };
}

const SIZES = { 'items.bin': 1000, 'model/weights/w.bin': CHUNK_BYTES * 2 + 12345, 'empty.bin': 0 };

interface Harness {
  /** A store writing from `writerDir` (its MODEL_DIR) and one reading into `readerDir`: another host's process. */
  writer: SnapshotStore;
  reader: SnapshotStore;
  /** Damages one stored byte of a file of a complete version (in the database, the bucket or the folder). */
  corrupt(model: string, version: string, file: string): Promise<void>;
  /** How many stored things (chunks, objects, files) the version still has. */
  leftovers(model: string, version: string): Promise<number>;
  faults: { set(hook: (() => Promise<void>) | undefined): void };
  close(): Promise<void>;
}

const engines: Record<string, (writerDir: string, readerDir: string) => Promise<Harness>> = {
  directory: async (writerDir) => {
    // One folder for every process: the directory store's deployment.
    let hook: (() => Promise<void>) | undefined;
    class Hooked extends DirectoryStore {
      override async publish(m: string, v: string, d: string): Promise<string> {
        await hook?.();
        return super.publish(m, v, d);
      }
    }
    const store = new Hooked(writerDir);
    return {
      writer: store,
      reader: store,
      corrupt: async (m, v, f) => {
        const p = join(writerDir, m, v, f);
        const b = readFileSync(p);
        b[0] ^= 1;
        writeFileSync(p, b);
      },
      leftovers: async (m, v) => (existsSync(join(writerDir, m, v)) ? readdirSync(join(writerDir, m, v), { recursive: true }).length : 0),
      faults: { set: (h) => (hook = h) },
      close: async () => undefined,
    };
  },
  postgres: async (writerDir, readerDir) => {
    const { url, drop } = await privateSchema('snap');
    const db: Store = await openPostgresStore({ databaseUrl: url, databasePath: '', migrationsDir: 'migrations', pgPoolSize: 4, sqliteBusyTimeoutMs: 0, sqliteSynchronous: 'NORMAL' }, { migrate: true });
    return {
      writer: new PostgresStore(db.snapshotBlobs!, writerDir),
      reader: new PostgresStore(db.snapshotBlobs!, readerDir),
      corrupt: async (m, v, f) => {
        const { default: pg } = await import('pg');
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query("UPDATE snapshot_chunks SET data = overlay(data placing '\\x00'::bytea from 1 for 1) WHERE model = $1 AND version = $2 AND file = $3 AND seq = 0", [m, v, f]);
        await c.end();
      },
      leftovers: async (m, v) => {
        const { default: pg } = await import('pg');
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        const n = Number((await c.query('SELECT (SELECT count(*) FROM snapshot_chunks WHERE model = $1 AND version = $2) + (SELECT count(*) FROM snapshot_versions WHERE model = $1 AND version = $2) AS n', [m, v])).rows[0].n);
        await c.end();
        return n;
      },
      faults: { set: (h) => (postgresStoreFaults.beforeComplete = h) },
      close: async () => {
        await db.close();
        await drop();
      },
    };
  },
  s3: async (writerDir, readerDir) => {
    const s3: LocalS3 = await startLocalS3();
    const where = { bucket: s3.bucket, prefix: 'deploy/snapshots' };
    const keys = async (m: string, v: string) => (await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `deploy/snapshots/${m}/${v}/` }))).Contents ?? [];
    return {
      writer: new S3Store(s3.client, where, writerDir),
      reader: new S3Store(s3.client, where, readerDir),
      corrupt: async (m, v, f) => {
        const key = `deploy/snapshots/${m}/${v}/${f}`;
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: Buffer.from('not the bytes the manifest lists') }));
      },
      leftovers: async (m, v) => (await keys(m, v)).length,
      faults: { set: (h) => (s3StoreFaults.beforeManifest = h) },
      close: () => s3.stop(),
    };
  },
};

for (const [engine, open] of Object.entries(engines)) {
  describe(`snapshot store: ${engine}`, () => {
    let h: Harness;
    let root: string;
    let cleanup: () => void;
    beforeAll(async () => {
      ({ dir: root, cleanup } = tempDir('recflow-snapshots-'));
      mkdirSync(join(root, 'writer', 'ease'), { recursive: true });
      mkdirSync(join(root, 'reader', 'ease'), { recursive: true });
      h = await open(join(root, 'writer'), join(root, 'reader'));
    });
    afterAll(async () => {
      await h?.close();
      cleanup?.();
    });
    const staged = (version: string) => stage(join(root, 'writer', 'ease'), `.tmp-${version}`, SIZES);

    it('publishes a version that another process reads back byte for byte, and lists it', async () => {
      const { dir, files } = staged('v0001');
      const locator = await h.writer.publish('ease', 'v0001', dir);
      expect(await h.reader.list('ease')).toEqual([{ model: 'ease', version: 'v0001' }]);
      const local = await h.reader.materialize('ease', 'v0001', locator);
      for (const [file, data] of Object.entries(files)) expect(sha256(readFileSync(join(local, file))), file).toBe(sha256(data));
    });

    it('shows nothing of a version before its upload completes, and nothing ever of an interrupted one', async () => {
      const { dir } = staged('v0002');
      let seen: unknown = 'not asked';
      h.faults.set(async () => {
        seen = await h.reader.list('ease');
      });
      await h.writer.publish('ease', 'v0002', dir);
      expect(seen).toEqual([{ model: 'ease', version: 'v0001' }]);
      h.faults.set(async () => {
        throw new Error('the writer died');
      });
      await expect(h.writer.publish('ease', 'v0003', staged('v0003').dir)).rejects.toThrow('the writer died');
      h.faults.set(undefined);
      expect((await h.reader.list('ease')).map((v) => v.version)).toEqual(['v0001', 'v0002']);
      await expect(h.reader.materialize('ease', 'v0003', engine === 'directory' ? join(root, 'writer', 'ease', 'v0003') : 'x')).rejects.toThrow();
      expect(await h.leftovers('ease', 'v0003')).toBe(0);
    });

    it('refuses a version whose stored bytes no longer match the manifest', async () => {
      const locator = await h.writer.publish('ease', 'v0004', staged('v0004').dir);
      await h.corrupt('ease', 'v0004', 'items.bin');
      await expect(h.reader.materialize('ease', 'v0004', locator)).rejects.toThrow(/checksum/);
      // A remote store's reader keeps no copy of what it refused.
      if (engine !== 'directory') expect(existsSync(join(root, 'reader', 'ease', 'v0004'))).toBe(false);
    });

    it('deletes a version with everything stored for it (retention)', async () => {
      const locator = await h.writer.publish('ease', 'v0005', staged('v0005').dir);
      await h.reader.materialize('ease', 'v0005', locator);
      await h.writer.delete('ease', 'v0005', locator);
      await h.reader.delete('ease', 'v0005', locator);
      expect((await h.reader.list('ease')).map((v) => v.version)).not.toContain('v0005');
      expect(await h.leftovers('ease', 'v0005')).toBe(0);
      expect(existsSync(join(root, 'reader', 'ease', 'v0005'))).toBe(false);
      await h.writer.delete('ease', 'v0005', locator);
    });
  });
}
