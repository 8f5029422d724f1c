import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { typedView } from '../data/typed-view.js';
import { MODEL_NAMES, type ModelName, type ModelState, type RecModel } from './model.js';
import { withoutInitialWeights } from './nn/param.js';
import { createModel } from './registry.js';

const ARRAY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const modelFileSchema = z.object({
  format: z.literal('recflow-model/1'),
  name: z.enum(MODEL_NAMES),
  nUsers: z.number().int().min(0),
  nItems: z.number().int().min(0),
  hyper: z.record(z.string(), z.unknown()),
  meta: z.record(z.string(), z.unknown()),
  arrays: z.array(
    z.object({
      name: z.string().regex(ARRAY_NAME),
      dtype: z.enum(['float32', 'int32']),
      length: z.number().int().min(0),
      file: z.string().regex(/^weights\/[A-Za-z0-9_.-]+\.bin$/),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

export type ModelFile = z.infer<typeof modelFileSchema>;

export interface SavedFile {
  /** Path relative to the directory. */
  path: string;
  bytes: number;
  sha256: string;
}

const sha256 = (buf: Uint8Array): string => createHash('sha256').update(buf).digest('hex');
const bytesOf = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes a model to `dir`: `model.json` (kind, sizes, hyperparameters, array index with
 * checksums) and one little-endian binary per array under `weights/`. The caller makes the
 * directory appear atomically (snapshots write to a temp dir and rename it).
 */
export async function saveModel(model: RecModel, dir: string): Promise<SavedFile[]> {
  const state = model.getState();
  await mkdir(join(dir, 'weights'), { recursive: true });
  const files: SavedFile[] = [];
  const arrays: ModelFile['arrays'] = [];
  for (const [name, data] of Object.entries(state.arrays)) {
    if (!ARRAY_NAME.test(name)) throw new Error(`array name ${name} is not a safe file name`);
    const file = `weights/${name}.bin`;
    const buf = bytesOf(data);
    const digest = sha256(buf);
    await writeFile(join(dir, file), buf);
    arrays.push({ name, dtype: data instanceof Int32Array ? 'int32' : 'float32', length: data.length, file, sha256: digest });
    files.push({ path: file, bytes: buf.byteLength, sha256: digest });
  }
  const doc: ModelFile = { format: 'recflow-model/1', name: model.name, nUsers: model.nUsers, nItems: model.nItems, hyper: { ...model.hyper }, meta: state.meta, arrays };
  const json = Buffer.from(JSON.stringify(doc, null, 2));
  await writeFile(join(dir, 'model.json'), json);
  files.push({ path: 'model.json', bytes: json.byteLength, sha256: sha256(json) });
  return files;
}

/** Reads a model written by {@link saveModel}, verifying every array's size and checksum. */
/**
 * `verified`: the caller has checked every file against its own checksums already (a snapshot's
 * manifest), so the arrays are not hashed a second time on this thread.
 */
export async function loadModel(dir: string, options: { verified?: boolean } = {}): Promise<RecModel> {
  const doc = modelFileSchema.parse(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')));
  const arrays: ModelState['arrays'] = {};
  for (const a of doc.arrays) {
    const buf = await readFile(join(dir, a.file));
    if (!options.verified && sha256(buf) !== a.sha256) throw new Error(`${a.file}: checksum mismatch (file corrupted)`);
    if (buf.byteLength !== a.length * 4) throw new Error(`${a.file}: expected ${a.length * 4} bytes, found ${buf.byteLength}`);
    // setState copies the values once more into the model: no copy of the file's bytes before that.
    arrays[a.name] = a.dtype === 'int32' ? typedView(buf, Int32Array, a.length) : typedView(buf, Float32Array, a.length);
  }
  const model = withoutInitialWeights(() => createModel(doc.name as ModelName, doc.nUsers, doc.nItems, doc.hyper));
  model.setState({ arrays, meta: doc.meta });
  return model;
}
