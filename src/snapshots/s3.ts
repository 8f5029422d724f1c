import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client, type _Object } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkNames, downloadInto, keepLocalCopy, localDir, MANIFEST, parseListing } from './files.js';
import { removeTempFolders } from './directory.js';
import { STALE_UPLOAD_MS, type SnapshotStore, type StoredVersion } from './store.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket's root). */
  prefix: string;
}

/** `s3://bucket/some/prefix` → bucket and prefix. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`${url} is not s3://bucket/prefix`);
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** Test hook: runs after the files are uploaded, before the manifest (which makes the version visible). */
export const s3StoreFaults: { beforeManifest?: () => Promise<void> } = {};

/**
 * Versions as objects under `<prefix>/<model>/<version>/` in S3-compatible storage. The manifest
 * is uploaded last and a version exists only when it does, so a reader never sees a partial one;
 * large files go up in parts as they are read (lib-storage) and come down as streams.
 */
export class S3Store implements SnapshotStore {
  readonly kind = 's3' as const;
  constructor(
    private readonly s3: S3Client,
    private readonly where: S3Location,
    readonly modelDir: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.where.prefix, ...parts].filter(Boolean).join('/');
  }

  async publish(model: string, version: string, stagedDir: string): Promise<string> {
    checkNames(model, version);
    const manifest = await readFile(join(stagedDir, MANIFEST), 'utf8');
    try {
      for (const name of Object.keys(parseListing(manifest))) await this.put(this.key(model, version, name), createReadStream(join(stagedDir, name)));
      await s3StoreFaults.beforeManifest?.();
      await this.put(this.key(model, version, MANIFEST), manifest);
    } catch (err) {
      await this.removePrefix(`${this.key(model, version)}/`).catch(() => undefined);
      throw err;
    }
    await keepLocalCopy(stagedDir, localDir(this.modelDir, model, version));
    return `s3://${this.where.bucket}/${this.key(model, version)}`;
  }

  private async put(key: string, body: Readable | string): Promise<void> {
    await new Upload({ client: this.s3, params: { Bucket: this.where.bucket, Key: key, Body: body }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
  }

  private async get(key: string): Promise<Readable | null> {
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return answer.Body as Readable;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
      throw err;
    }
  }

  async materialize(model: string, version: string): Promise<string> {
    checkNames(model, version);
    const final = localDir(this.modelDir, model, version);
    if (await readFile(join(final, MANIFEST)).then(() => true, () => false)) return final;
    const manifest = await this.get(this.key(model, version, MANIFEST));
    if (!manifest) throw new Error(`snapshot ${model}/${version} is not in s3://${this.where.bucket}/${this.where.prefix}`);
    const text = Buffer.concat(await manifest.toArray()).toString('utf8');
    return downloadInto(final, text, async (name, to) => {
      const body = await this.get(this.key(model, version, name));
      if (!body) throw new Error(`snapshot ${model}/${version}: ${name} is missing from the bucket`);
      await pipeline(body, createWriteStream(to));
    });
  }

  async delete(model: string, version: string): Promise<void> {
    checkNames(model, version);
    // The manifest first: from then on no reader can find the version, even while its files go.
    await this.s3.send(new DeleteObjectsCommand({ Bucket: this.where.bucket, Delete: { Objects: [{ Key: this.key(model, version, MANIFEST) }] } }));
    await this.removePrefix(`${this.key(model, version)}/`);
    await rm(localDir(this.modelDir, model, version), { recursive: true, force: true });
  }

  private async *objects(prefix: string): AsyncGenerator<_Object> {
    for (let token: string | undefined; ; ) {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: prefix, ContinuationToken: token }));
      yield* page.Contents ?? [];
      if (!page.IsTruncated) return;
      token = page.NextContinuationToken;
    }
  }

  private async removePrefix(prefix: string): Promise<void> {
    let batch: { Key: string }[] = [];
    const flush = async () => {
      if (batch.length) await this.s3.send(new DeleteObjectsCommand({ Bucket: this.where.bucket, Delete: { Objects: batch } }));
      batch = [];
    };
    for await (const o of this.objects(prefix)) {
      batch.push({ Key: o.Key! });
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  /** Every version folder under the prefix: whether its manifest is there, and its newest object's time. */
  private async folders(model?: string): Promise<Map<string, { model: string; version: string; complete: boolean; modified: number }>> {
    const found = new Map<string, { model: string; version: string; complete: boolean; modified: number }>();
    const base = model ? `${this.key(model)}/` : this.where.prefix ? `${this.where.prefix}/` : '';
    for await (const o of this.objects(base)) {
      const rest = o.Key!.slice(this.where.prefix ? this.where.prefix.length + 1 : 0).split('/');
      if (rest.length < 3) continue;
      const [m, v] = rest;
      const id = `${m}/${v}`;
      const entry = found.get(id) ?? { model: m, version: v, complete: false, modified: 0 };
      if (rest.length === 3 && rest[2] === MANIFEST) entry.complete = true;
      entry.modified = Math.max(entry.modified, o.LastModified?.getTime() ?? 0);
      found.set(id, entry);
    }
    return found;
  }

  async list(model?: string): Promise<StoredVersion[]> {
    return [...(await this.folders(model)).values()].filter((f) => f.complete).map(({ model: m, version }) => ({ model: m, version })).sort((a, b) => a.version.localeCompare(b.version));
  }

  async removeIncomplete(maxAgeMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const f of (await this.folders()).values()) {
      if (f.complete || now - f.modified <= maxAgeMs) continue;
      await this.removePrefix(`${this.key(f.model, f.version)}/`);
      removed++;
    }
    return removed + (await removeTempFolders(this.modelDir, maxAgeMs, now));
  }
}
