import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../src/serving/result-cache.js';

describe('ResultCache', () => {
  it('is bounded: evicts the least recently used entry', () => {
    const c = new ResultCache<number>(2, 60_000);
    c.set('a', 'k1', 1);
    c.set('b', 'k2', 2);
    expect(c.get('a', 'k1')).toBe(1); // k1 is now the most recent
    c.set('c', 'k3', 3);
    expect(c.size).toBe(2);
    expect(c.get('b', 'k2')).toBeUndefined();
    expect(c.get('a', 'k1')).toBe(1);
    expect(c.get('c', 'k3')).toBe(3);
  });

  it('expires entries after the TTL and drops a user\'s entries on invalidation', () => {
    let now = 0;
    const c = new ResultCache<number>(10, 100, () => now);
    c.set('a', 'k1', 1);
    c.set('a', 'k2', 2);
    c.set('b', 'k3', 3);
    c.invalidateUser('a');
    expect(c.get('a', 'k1')).toBeUndefined();
    expect(c.get('a', 'k2')).toBeUndefined();
    expect(c.get('b', 'k3')).toBe(3);
    now = 101;
    expect(c.get('b', 'k3')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.hits).toBe(1);
  });

  it('stores nothing when sized 0', () => {
    const c = new ResultCache<number>(0, 100);
    c.set('a', 'k', 1);
    expect(c.get('a', 'k')).toBeUndefined();
  });

  it('is bounded in estimated bytes as well as entries, and accounts for invalidation', () => {
    const c = new ResultCache<string>(1_000_000, 60_000, () => 0, { maxBytes: 10_000, sizeOf: (v) => 2 * v.length });
    for (let k = 0; k < 1000; k++) c.set(`u${k}`, `key-${k}`, 'x'.repeat(500));
    // Each entry is ~1,180 estimated bytes: no more than 10,000 bytes' worth stay, the newest.
    expect(c.bytes).toBeLessThanOrEqual(10_000);
    expect(c.size).toBe(8);
    expect(c.get('u999', 'key-999')).toBeDefined();
    expect(c.get('u0', 'key-0')).toBeUndefined();
    c.invalidateUser('u999');
    expect(c.size).toBe(7);
    c.clear();
    expect(c.bytes).toBe(0);
    // A single answer larger than the whole budget is not cached at all.
    c.set('big', 'k', 'y'.repeat(10_000));
    expect(c.size).toBe(0);
  });
});
