import { describe, expect, it } from 'vitest';
import { buildCentroids, smoothedRate } from '../../../src/training/centroids.ts';
import { kmeans } from '../../../src/training/kmeans.ts';
import { adjustedRandIndex } from '../../../src/training/metrics-quality.ts';
import { gaussian, seededRandom } from '../../../src/util/prng.ts';

function blobs(seed: number, sizes: number[], centers: number[][], spread: number) {
  const random = seededRandom(seed);
  const points: number[][] = [];
  const truth: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      points.push(centers[c]!.map((x) => x + spread * gaussian(random)));
      truth.push(c);
    }
  });
  return { points, truth };
}

function ring(seed: number, n: number, r: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const a = random() * 2 * Math.PI;
    return [r * Math.cos(a) + 0.05 * gaussian(random), r * Math.sin(a) + 0.05 * gaussian(random)];
  });
}

describe('kmeans', () => {
  it('recovers separated blobs and is reproducible from its seed', () => {
    const { points, truth } = blobs(1, [50, 50, 50, 50], [[0, 0], [10, 0], [0, 10], [10, 10]], 1);
    const a = kmeans(points, { k: 4, seed: 7 });
    expect(adjustedRandIndex(a.labels, truth)).toBe(1);
    const b = kmeans(points, { k: 4, seed: 7 });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.inertia).toBe(a.inertia);
  });
  it('handles k = n and duplicate points, and rejects k > n', () => {
    expect(kmeans([[1], [1], [2]], { k: 3 }).labels.length).toBe(3);
    expect(() => kmeans([[1], [2]], { k: 3 })).toThrow(/k must be an integer between 1 and the number of points \(2\)/);
  });
});

describe('buildCentroids', () => {
  it('one centroid per compact cluster with a 95th-percentile radius and smoothed churn', () => {
    const { points, truth } = blobs(2, [100, 40], [[0, 0], [20, 0]], 1);
    // cluster 0: 10% churn; cluster 1: 50%; noise point at the end with unknown outcome.
    const churn = truth.map((c, i) => (c === 0 ? (i % 10 === 0 ? 1 : 0) : i % 2));
    const model = buildCentroids([...points, [100, 100]], [...truth, -1], [...churn, Number.NaN], { churnPriorStrength: 10 });
    expect(model.centroids).toHaveLength(2);
    const global = churn.reduce((s, v) => s + v, 0) / churn.length;
    expect(model.globalChurnRate).toBeCloseTo(global, 12);
    const [c0, c1] = model.centroids;
    expect(c0!.size).toBe(100);
    expect(c0!.churnRate).toBeCloseTo(smoothedRate(10, 100, global, 10), 12);
    expect(c1!.churnRate).toBeCloseTo(smoothedRate(20, 40, global, 10), 12);
    // smoothing pulls toward the global rate
    expect(c0!.churnRate).toBeGreaterThan(0.1);
    const inside = points.slice(0, 100).filter((p) => Math.hypot(p[0]! - c0!.vector[0]!, p[1]! - c0!.vector[1]!) <= c0!.radius);
    expect(inside.length).toBe(95);
  });
  it('splits a large cluster and a ring-shaped one into several centroids', () => {
    const { points } = blobs(3, [300], [[0, 0]], 1);
    const big = buildCentroids(points, new Array(300).fill(0), undefined, { maxCentroidSize: 100 });
    expect(big.centroids.length).toBe(3);
    expect(big.clusters[0]!.centroidIds).toEqual([0, 1, 2]);
    expect(big.centroids.reduce((s, c) => s + c.size, 0)).toBe(300);
    const r = ring(4, 200, 5);
    const ringModel = buildCentroids(r, new Array(200).fill(3));
    expect(ringModel.centroids.length).toBe(4);
    expect(ringModel.centroids.every((c) => c.clusterId === 3)).toBe(true);
    // every centroid sits on the ring, not at its empty centre
    for (const c of ringModel.centroids) expect(Math.hypot(c.vector[0]!, c.vector[1]!)).toBeGreaterThan(3);
    const blob = buildCentroids(points, new Array(300).fill(0));
    expect(blob.centroids.length).toBe(1);
  });
  it('without labels the churn rate is 0 and mismatched lengths are rejected', () => {
    const m = buildCentroids([[0], [1]], [0, 0]);
    expect(m.centroids[0]!.churnRate).toBe(0);
    expect(() => buildCentroids([[0], [1]], [0])).toThrow(/2 embeddings but 1 labels/);
  });
});

describe('buildCentroids at scale', () => {
  // Math.min(...xs) overflows the call stack from ~150k elements.
  it('handles a cluster of 200,000 members (no argument-spread limits)', () => {
    const random = seededRandom(8);
    const n = 200_000;
    const points = Array.from({ length: n }, () => Float32Array.of(gaussian(random), gaussian(random)));
    const model = buildCentroids(points, new Int32Array(n), undefined, { maxCentroidSize: n });
    expect(model.centroids.length).toBe(1);
    expect(model.centroids[0]!.size).toBe(n);
    // 95th percentile of the distance of a 2-d standard normal: sqrt(-2 ln 0.05) ≈ 2.448
    expect(model.centroids[0]!.radius).toBeCloseTo(2.448, 1);
  });
});
