import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { DataWatermark } from '../db/training-data-repository.js';
import { MODEL_NAMES, type RecModel, type ServingEmbeddings } from '../models/model.js';
import { loadModel, saveModel } from '../models/persist.js';
import type { TrainResult } from '../train/trainer.js';
import { fileDigest, fsyncPath, verifyFolder } from '../snapshots/files.js';
import { typedView } from '../data/typed-view.js';
import { decodeIdsInSlices, encodeIds } from './id-list.js';
import { decodeArtifacts, encodeArtifacts, type EncodedArtifacts, type SnapshotArtifacts } from './artifacts.js';
import { hasRetrieval, loadRetrieval, RETRIEVAL_DIR, retrievalMetaSchema, saveRetrieval, type Retrieval, type RetrievalMeta } from './retrieval.js';

export const MANIFEST_FORMAT = 'recflow-snapshot/1';
export const VERSION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const fileEntry = z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  model: z.enum(MODEL_NAMES),
  version: z.string().regex(VERSION_PATTERN),
  createdAt: z.string(),
  hyperparameters: z.record(z.string(), z.unknown()),
  backend: z.record(z.string(), z.unknown()),
  watermark: z.record(z.string(), z.number()),
  training: z.record(z.string(), z.unknown()),
  metrics: z.object({ valid: z.record(z.string(), z.number()), test: z.record(z.string(), z.number()) }),
  embeddings: z.object({ kind: z.string(), exact: z.boolean(), users: z.number(), items: z.number(), factors: z.number() }),
  jobId: z.string().nullable(),
  files: z.record(z.string(), fileEntry),
  /** What the pipeline reads besides the model (score references, the learned ranker); its files are under `pipeline/`. */
  pipeline: z.record(z.string(), z.unknown()).optional(),
  /** Approximate-retrieval indexes the job built, under `retrieval/` (large catalogues only). */
  retrieval: retrievalMetaSchema.optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** A snapshot loaded into memory. */
export interface LoadedSnapshot {
  manifest: Manifest;
  dir: string;
  model: RecModel;
  userIds: string[];
  itemIds: string[];
  embeddings: ServingEmbeddings;
  /** Training interactions per item (dense ids of this snapshot). */
  popularity: Float32Array;
  artifacts: SnapshotArtifacts;
  /** Prebuilt approximate-retrieval indexes, memory-mapped (absent: serving builds what it needs). */
  retrieval?: Retrieval;
  /** QᵀQ of the item vectors as served (fold-in), when the snapshot holds it. */
  itemGram?: Float64Array;
}

export interface SnapshotInput {
  model: RecModel;
  result: TrainResult;
  userIds: readonly string[];
  itemIds: readonly string[];
  popularity: Float32Array;
  watermark: DataWatermark;
  jobId: string | null;
  /** The pipeline's artifacts (recent items, co-occurrence, score references, the ranker). */
  artifacts?: SnapshotArtifacts;
  /** The indexes built over this model (ServingIndex.retrieval), saved so serving need not build them. */
  retrieval?: Retrieval;
  /** QᵀQ of the served item vectors (ServingIndex.itemGram): 0.27 G multiply-adds at 1M × 64 that serving then skips. */
  itemGram?: Float64Array | null;
}

const ARTIFACTS_DIR = 'pipeline';

/** A sortable, file-name-safe version id: UTC time to the millisecond plus 4 random hex digits. */
export function newVersionId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '').replace('T', '-').replace('Z', '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Fault injection for tests: runs after the files are written, before the rename. */
export const snapshotFaults: { beforeRename?: () => Promise<void> } = {};

/**
 * Fault injection from configuration (tests only), for writers in other threads or processes:
 * pause before the rename so a kill lands mid-write, and/or fail as a full disk would. Sets
 * exactly the configured faults (none clears them). Returns whether any fault is now installed.
 */
export function installSnapshotFaults(faults: { faultSnapshotDelayMs: number; faultSnapshotError: string | undefined }): boolean {
  const { faultSnapshotDelayMs: delay, faultSnapshotError: code } = faults;
  if (delay <= 0 && !code) {
    delete snapshotFaults.beforeRename;
    return false;
  }
  snapshotFaults.beforeRename = async () => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (code) throw Object.assign(new Error(`${code}: injected fault (FAULT_SNAPSHOT_ERROR), write`), { code });
  };
  return true;
}

/**
 * Writes an immutable snapshot to `<modelDir>/<model>/<version>/`: model weights, id maps,
 * embedding matrices and a manifest with every file's checksum. Everything goes to a temp dir
 * first, is fsync'd, and the dir is renamed into place, so a crash leaves either nothing or a
 * complete snapshot (never registered in the database until after the rename).
 */
export async function writeSnapshot(modelDir: string, input: SnapshotInput, version = newVersionId()): Promise<{ dir: string; manifest: Manifest }> {
  const parent = join(modelDir, input.model.name);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.tmp-${version}`);
  const final = join(parent, version);
  try {
    await mkdir(tmp);
    await saveModel(input.model, join(tmp, 'model'));
    const emb = input.model.embeddings();
    await writeDurable(join(tmp, 'users.ids'), encodeIds(input.userIds));
    await writeDurable(join(tmp, 'items.ids'), encodeIds(input.itemIds));
    await writeDurable(join(tmp, 'popularity.f32'), bytes(input.popularity));
    await writeDurable(join(tmp, 'item-embeddings.f32'), bytes(emb.item.data));
    if (emb.user) await writeDurable(join(tmp, 'user-embeddings.f32'), bytes(emb.user.data));
    if (emb.itemBias) await writeDurable(join(tmp, 'item-bias.f32'), bytes(emb.itemBias));
    if (input.itemGram) await writeDurable(join(tmp, 'item-gram.f64'), new Uint8Array(input.itemGram.buffer, input.itemGram.byteOffset, input.itemGram.byteLength));
    const artifacts = input.artifacts ? encodeArtifacts(input.artifacts) : null;
    if (artifacts) {
      await mkdir(join(tmp, ARTIFACTS_DIR));
      for (const [name, data] of Object.entries(artifacts.files)) await writeDurable(join(tmp, ARTIFACTS_DIR, name), data);
    }
    const retrieval: RetrievalMeta | null = input.retrieval && hasRetrieval(input.retrieval) ? await saveRetrieval(input.retrieval, tmp) : null;
    const files: Manifest['files'] = {};
    for (const path of await listFiles(tmp)) {
      // saveModel and the index saves write without fsync: their files are synced before they count as written.
      if (path.startsWith(join(tmp, 'model')) || path.startsWith(join(tmp, RETRIEVAL_DIR))) await fsyncPath(path);
      files[relative(tmp, path).split(sep).join('/')] = await fileDigest(path);
    }
    const r = input.result;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      model: input.model.name,
      version,
      createdAt: new Date().toISOString(),
      hyperparameters: r.hyper,
      backend: { ...r.backend },
      watermark: { ...input.watermark },
      training: { seconds: r.seconds, epochs: r.fit.epochs, bestEpoch: r.fit.bestEpoch, samplesPerSec: r.fit.samplesPerSec, threads: r.fit.threads ?? 1, peakRssBytes: r.peakRssBytes, data: r.data, refit: r.refit ?? null, history: r.history },
      metrics: { valid: { ...r.valid }, test: { ...r.test } },
      embeddings: { kind: emb.kind, exact: emb.exact, users: input.userIds.length, items: input.itemIds.length, factors: emb.item.cols },
      jobId: input.jobId,
      files,
      ...(artifacts ? { pipeline: artifacts.meta } : {}),
      ...(retrieval ? { retrieval } : {}),
    };
    await writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    if (artifacts) await fsyncPath(join(tmp, ARTIFACTS_DIR));
    if (retrieval) await fsyncPath(join(tmp, RETRIEVAL_DIR));
    await fsyncPath(join(tmp, 'model', 'weights'));
    await fsyncPath(join(tmp, 'model'));
    await fsyncPath(tmp);
    await snapshotFaults.beforeRename?.();
    await rename(tmp, final);
    await fsyncPath(parent);
    return { dir: final, manifest };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function readF32(path: string, expected: number): Promise<Float32Array> {
  const buf = await readFile(path);
  if (buf.byteLength !== expected * 4) throw new Error(`${path}: expected ${expected} floats, found ${buf.byteLength / 4}`);
  return typedView(buf, Float32Array, expected);
}

async function readGram(path: string, d: number): Promise<Float64Array> {
  const buf = await readFile(path);
  if (buf.byteLength !== d * d * 8) throw new Error(`${path}: expected ${d} × ${d} doubles, found ${buf.byteLength} bytes`);
  return typedView(buf, Float64Array, d * d);
}

/** An id list: the binary layout, or the JSON array snapshots written before it hold. */
async function readIds(dir: string, manifest: Manifest, name: 'users' | 'items'): Promise<string[]> {
  if (manifest.files[`${name}.ids`]) return decodeIdsInSlices(await readFile(join(dir, `${name}.ids`)));
  return z.array(z.string()).parse(JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')));
}

/**
 * Loads a snapshot directory, checking every file against the manifest's checksums unless the
 * snapshot store just did (`verified`: a file is hashed once per load, not twice).
 */
export async function readSnapshot(dir: string, options: { verified?: boolean } = {}): Promise<LoadedSnapshot> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  if (!options.verified) await verifyFolder(dir);
  // Every file was just checked against the manifest: the model's arrays need no second hash.
  const model = await loadModel(join(dir, 'model'), { verified: true });
  const userIds = await readIds(dir, manifest, 'users');
  const itemIds = await readIds(dir, manifest, 'items');
  const popularity = await readF32(join(dir, 'popularity.f32'), itemIds.length);
  const e = manifest.embeddings;
  const item = { rows: itemIds.length, cols: e.factors, data: await readF32(join(dir, 'item-embeddings.f32'), itemIds.length * e.factors) };
  const user = manifest.files['user-embeddings.f32']
    ? { rows: userIds.length, cols: e.factors, data: await readF32(join(dir, 'user-embeddings.f32'), userIds.length * e.factors) }
    : null;
  const itemBias = manifest.files['item-bias.f32'] ? await readF32(join(dir, 'item-bias.f32'), itemIds.length) : undefined;
  const embeddings: ServingEmbeddings = { kind: e.kind as ServingEmbeddings['kind'], exact: e.exact, user, item, ...(itemBias ? { itemBias } : {}) };
  const artifacts = decodeArtifacts(await readArtifacts(dir, manifest));
  const itemGram = manifest.files['item-gram.f64'] ? await readGram(join(dir, 'item-gram.f64'), e.factors) : undefined;
  const retrieval = manifest.retrieval ? await loadRetrieval(dir, manifest.retrieval, { items: itemIds.length, users: userIds.length, dims: e.factors }) : undefined;
  return { manifest, dir, model, userIds, itemIds, embeddings, popularity, artifacts, ...(retrieval ? { retrieval } : {}), ...(itemGram ? { itemGram } : {}) };
}

/** The artifact files the manifest lists (already checksummed) and its pipeline metadata; null for a snapshot without. */
async function readArtifacts(dir: string, manifest: Manifest): Promise<EncodedArtifacts | null> {
  if (!manifest.pipeline) return null;
  const files: Record<string, Uint8Array> = {};
  const prefix = `${ARTIFACTS_DIR}/`;
  for (const file of Object.keys(manifest.files).filter((f) => f.startsWith(prefix))) files[file.slice(prefix.length)] = await readFile(join(dir, file));
  return { files, meta: manifest.pipeline };
}

/** Deletes a snapshot directory; refuses anything that is not a plain `<model>/<version>` below modelDir. */
export async function deleteSnapshot(modelDir: string, model: string, version: string): Promise<void> {
  if (!VERSION_PATTERN.test(version) || !/^[a-z]+$/.test(model)) throw new Error('unsafe snapshot path');
  const dir = join(modelDir, model, version);
  await stat(dir).then(
    () => rm(dir, { recursive: true, force: true }),
    () => undefined,
  );
}
