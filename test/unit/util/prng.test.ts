import { describe, expect, it } from 'vitest';
import { fnv1a32 as hash32 } from '../../../src/util/hash.ts';
import { Rng } from '../../../src/util/prng.ts';

describe('Rng', () => {
  it('repeats the same stream for the same seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
  });

  it('draws uniform values in [0, 1) with a plausible mean', () => {
    const r = new Rng(7);
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(xs.filter((x) => x < 0 || x >= 1)).toEqual([]);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('draws weighted indices in proportion to their weights', () => {
    const r = new Rng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[r.weighted([1, 0, 3])]!++;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.7);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.3);
  });

  it('gives log-normal draws with the requested median', () => {
    const r = new Rng(9);
    const xs = Array.from({ length: 10_001 }, () => r.logNormal(5000, 0.8)).sort((x, y) => x - y);
    expect(xs[5000]!).toBeGreaterThan(4600);
    expect(xs[5000]!).toBeLessThan(5400);
  });
});

describe('hash32', () => {
  it('is FNV-1a, so derived seeds are the same on every platform', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
    expect(hash32('foobar')).toBe(0xbf9cf968);
  });
});
