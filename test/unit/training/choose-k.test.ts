import { describe, expect, it } from 'vitest';
import { chooseK, silhouette } from '../../../src/training/choose-k.ts';
import { seededRandom } from '../../../src/util/prng.ts';

describe('chooseK', () => {
  it('chooses k by silhouette: three separated blobs give k = 3', () => {
    const random = seededRandom(9);
    const centres = [[0, 0], [10, 0], [0, 10]];
    const pts = Array.from({ length: 300 }, (_, i) => centres[i % 3]!.map((c) => c + random() - 0.5));
    const r = chooseK(pts, { candidates: [2, 3, 4, 5], sample: 150 });
    expect(r.k).toBe(3);
    for (let i = 3; i < 300; i++) expect(r.labels[i]).toBe(r.labels[i % 3]);
  });

  it('silhouette is near 1 for tight, far groups and negative for swapped labels', () => {
    const pts = [[0, 0], [0, 0.1], [10, 0], [10, 0.1]];
    const all = [0, 1, 2, 3];
    expect(silhouette(pts, [0, 0, 1, 1], all)).toBeGreaterThan(0.98);
    expect(silhouette(pts, [0, 1, 0, 1], all)).toBeLessThan(0);
  });
});
