import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import { decodeIdsInSlices, encodeIds } from '../../src/serving/id-list.js';
import { readSnapshot, writeSnapshot } from '../../src/serving/snapshots.js';
import { trainModel } from '../../src/train/trainer.js';
import { tempDir } from '../helpers/app.js';

describe('the binary id list of a snapshot', () => {
  it('reads back every list of strings as written, newlines and any Unicode included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 300 }), async (ids) => {
        expect(await decodeIdsInSlices(encodeIds(ids))).toEqual(ids);
      }),
    );
    const many = Array.from({ length: 50_000 }, (_, k) => `item\n${k}`);
    expect(await decodeIdsInSlices(encodeIds(many))).toEqual(many);
  });

  it('refuses a truncated or inconsistent file instead of reading wrong ids', async () => {
    const bytes = encodeIds(['a', 'bc', 'def']);
    await expect(decodeIdsInSlices(bytes.subarray(0, bytes.byteLength - 1))).rejects.toThrow(/does not hold 3 ids/);
    await expect(decodeIdsInSlices(new Uint8Array(4))).rejects.toThrow(/4 bytes/);
    const swapped = Buffer.from(bytes);
    swapped.writeUInt32LE(5, 8); // id 1 would start after it ends
    await expect(decodeIdsInSlices(swapped)).rejects.toThrow(/negative length/);
  });

  it('a snapshot written before the binary layout (ids as JSON arrays) still loads', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const data = syntheticInteractions({ users: 40, items: 30, density: 0.2, seed: 3 });
      const { model, result } = await trainModel(data, { model: 'pop' }, await initBackend('auto'));
      const watermark = { ratings: 0, events: 0, users: 0, items: 0, lastRatingId: 0, lastEventId: 0, lastIngestAt: 0 };
      const snap = await writeSnapshot(dir, { model, result, userIds: data.userIds, itemIds: data.itemIds, popularity: new Float32Array(data.itemIds.length), watermark, jobId: null });
      const manifest = JSON.parse(await readFile(join(snap.dir, 'manifest.json'), 'utf8'));
      for (const name of ['users', 'items']) {
        await rm(join(snap.dir, `${name}.ids`));
        delete manifest.files[`${name}.ids`];
        await writeFile(join(snap.dir, `${name}.json`), JSON.stringify(name === 'users' ? data.userIds : data.itemIds));
      }
      await writeFile(join(snap.dir, 'manifest.json'), JSON.stringify(manifest));
      const loaded = await readSnapshot(snap.dir, { verified: true });
      expect(loaded.userIds).toEqual(data.userIds);
      expect(loaded.itemIds).toEqual(data.itemIds);
    } finally {
      cleanup();
    }
  });
});
