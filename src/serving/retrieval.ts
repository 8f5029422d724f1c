import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Csr } from '../data/interactions.js';
import { ANN_SETTINGS, AnnIndex } from './ann.js';
import { decodeCsr, encodeCsr } from './artifacts.js';

/** The snapshot folder holding the prebuilt retrieval structures. */
export const RETRIEVAL_DIR = 'retrieval';

/** Index files are saved in shards: `items.usearch.0`, `items.usearch.1`, … (see SHARD_ROWS). */
const FILES = { items: 'items.usearch', itemsUnit: 'items-unit.usearch', users: 'users.usearch', similar: 'similar.csr' } as const;

/** What the manifest says of the prebuilt structures (their files are listed, with checksums, among the snapshot's files). */
export const retrievalMetaSchema = z.object({
  /** The score index (user · item + bias); `shared`: the cosine one is the same file (unit vectors, no bias). */
  items: z.object({ bias: z.boolean(), shared: z.boolean() }).nullable(),
  users: z.boolean(),
  /** Neighbours kept per item in the similar-item lists found with the cosine index (0: none). */
  similarWidth: z.number().int().min(0),
  settings: z.object({ connectivity: z.number(), expansionAdd: z.number(), expansionSearch: z.number() }),
});
export type RetrievalMeta = z.infer<typeof retrievalMetaSchema>;

/**
 * The approximate-retrieval structures of a large catalogue: HNSW indexes by score and by
 * cosine, over users, and each item's nearest items found with the cosine one. A training job
 * builds them (ServingIndex.build over the model it saves) and writes them into the snapshot, so
 * serving maps them instead of building them again.
 */
export interface Retrieval {
  ann: AnnIndex | null;
  annUnit: AnnIndex | null;
  annUsers: AnnIndex | null;
  similar: Csr | null;
  similarWidth: number;
}

export const NO_RETRIEVAL: Retrieval = { ann: null, annUnit: null, annUsers: null, similar: null, similarWidth: 0 };

export const hasRetrieval = (r: Retrieval): boolean => r.ann !== null || r.annUsers !== null;

/** Writes the structures into `<snapshot>/retrieval/` (synchronous index saves: this runs in the training thread). */
export async function saveRetrieval(r: Retrieval, snapshotDir: string): Promise<RetrievalMeta> {
  const dir = join(snapshotDir, RETRIEVAL_DIR);
  await mkdir(dir, { recursive: true });
  const shared = r.ann !== null && r.ann === r.annUnit;
  r.ann?.save(join(dir, FILES.items));
  if (r.annUnit && !shared) r.annUnit.save(join(dir, FILES.itemsUnit));
  r.annUsers?.save(join(dir, FILES.users));
  if (r.similar) await writeFile(join(dir, FILES.similar), encodeCsr(r.similar));
  return {
    items: r.ann ? { bias: r.ann.withBias, shared } : null,
    users: r.annUsers !== null,
    similarWidth: r.similar ? r.similarWidth : 0,
    settings: { ...ANN_SETTINGS },
  };
}

/** The shape the structures must have to belong to a snapshot. */
export interface RetrievalShape {
  items: number;
  users: number;
  dims: number;
}

/** Maps the prebuilt indexes of a checked snapshot folder and reads its similar-item lists. */
export async function loadRetrieval(snapshotDir: string, meta: RetrievalMeta, shape: RetrievalShape): Promise<Retrieval> {
  const dir = join(snapshotDir, RETRIEVAL_DIR);
  const ann = meta.items ? await AnnIndex.view(join(dir, FILES.items), shape.dims, meta.items.bias, shape.items) : null;
  const annUnit = meta.items ? (meta.items.shared ? ann : await AnnIndex.view(join(dir, FILES.itemsUnit), shape.dims, false, shape.items)) : null;
  const annUsers = meta.users ? await AnnIndex.view(join(dir, FILES.users), shape.dims, false, shape.users) : null;
  const similar = meta.similarWidth > 0 ? decodeCsr(await readFile(join(dir, FILES.similar))) : null;
  if (similar && similar.rows !== shape.items) throw new Error(`${FILES.similar}: ${similar.rows} rows for ${shape.items} items`);
  return { ann, annUnit, annUsers, similar, similarWidth: meta.similarWidth };
}
