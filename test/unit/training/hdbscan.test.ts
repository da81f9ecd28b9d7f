import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hdbscan } from '../../../src/training/hdbscan.ts';
import { adjustedRandIndex } from '../../../src/training/metrics-quality.ts';
import { gaussian, seededRandom } from '../../../src/util/prng.ts';

interface RefCase {
  name: string;
  minClusterSize: number;
  minSamples: number;
  points: number[][];
  labels: number[];
  probabilities: number[];
  /** How far the reference's own labels move when its input rows are reordered (tied edges). */
  selfAgreement: { minAdjustedRand: number; maxNoiseDifference: number };
}
const reference = JSON.parse(readFileSync(new URL('../../fixtures/hdbscan-reference.json', import.meta.url), 'utf8')) as {
  cases: RefCase[];
};

const noiseDifference = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).filter((l, i) => (l === -1) !== (b[i] === -1)).length;

describe('hdbscan against the reference Python package (test/fixtures/hdbscan-reference.json)', () => {
  it('the fixture includes at least one case where the reference is order-independent', () => {
    expect(reference.cases.some((c) => c.selfAgreement.minAdjustedRand === 1 && c.selfAgreement.maxNoiseDifference === 0)).toBe(true);
  });
  for (const c of reference.cases) {
    const exact = c.selfAgreement.minAdjustedRand === 1 && c.selfAgreement.maxNoiseDifference === 0;
    it(`${c.name}: ${exact ? 'identical partition, noise and probabilities' : 'as close as the reference is to itself under row reordering'}`, () => {
      const result = hdbscan(c.points, { minClusterSize: c.minClusterSize, minSamples: c.minSamples });
      expect(adjustedRandIndex(result.labels, c.labels)).toBeGreaterThanOrEqual(c.selfAgreement.minAdjustedRand - 1e-12);
      expect(noiseDifference(result.labels, c.labels)).toBeLessThanOrEqual(c.selfAgreement.maxNoiseDifference);
      if (exact) {
        expect(result.clusterCount).toBe(Math.max(...c.labels) + 1);
        for (let i = 0; i < c.points.length; i++) expect(result.probabilities[i]).toBeCloseTo(c.probabilities[i]!, 6);
      }
    });
  }
});

function blobs(seed: number, perCluster: number, centers: number[][], spread: number): { points: number[][]; truth: number[] } {
  const random = seededRandom(seed);
  const points: number[][] = [];
  const truth: number[] = [];
  centers.forEach((center, c) => {
    for (let i = 0; i < perCluster; i++) {
      points.push(center.map((x) => x + spread * gaussian(random)));
      truth.push(c);
    }
  });
  return { points, truth };
}

describe('hdbscan', () => {
  it('finds well-separated blobs in 16 dimensions', () => {
    const centers = [0, 1, 2].map((c) => Array.from({ length: 16 }, (_, d) => (d % 3 === c ? 10 : 0)));
    const { points, truth } = blobs(1, 80, centers, 0.5);
    const result = hdbscan(points, { minClusterSize: 10 });
    expect(result.clusterCount).toBe(3);
    const clustered = Array.from(result.labels).flatMap((l, i) => (l >= 0 ? [i] : []));
    expect(clustered.length).toBeGreaterThan(0.9 * points.length);
    expect(adjustedRandIndex(clustered.map((i) => result.labels[i]!), clustered.map((i) => truth[i]!))).toBe(1);
  });

  it('on a subsample, extends labels to the other points and keeps far outliers as noise', () => {
    const centers = [
      [0, 0],
      [20, 0],
    ];
    const { points, truth } = blobs(2, 300, centers, 1);
    points.push([10, 40]);
    truth.push(-1);
    const result = hdbscan(points, { minClusterSize: 15, maxPoints: 200, seed: 3 });
    expect(result.sampleIndices.length).toBe(200);
    expect(result.clusterCount).toBe(2);
    expect(result.labels[points.length - 1]).toBe(-1);
    const clustered = Array.from(result.labels).flatMap((l, i) => (l >= 0 ? [i] : []));
    expect(clustered.length).toBeGreaterThan(0.9 * points.length);
    expect(adjustedRandIndex(clustered.map((i) => result.labels[i]!), clustered.map((i) => truth[i]!))).toBe(1);
  });

  it('marks everything as noise when no split reaches minClusterSize', () => {
    const { points } = blobs(4, 12, [[0, 0]], 1);
    expect(Array.from(hdbscan(points, { minClusterSize: 10 }).labels).every((l) => l === -1)).toBe(true);
  });

  it('survives exact duplicates (zero distances)', () => {
    const points = [...Array.from({ length: 20 }, () => [1, 1]), ...Array.from({ length: 20 }, () => [5, 5])];
    const result = hdbscan(points, { minClusterSize: 5 });
    expect(result.clusterCount).toBe(2);
    expect(adjustedRandIndex(result.labels, [...Array(20).fill(0), ...Array(20).fill(1)])).toBe(1);
  });

  it('rejects bad options and ragged rows with messages naming them', () => {
    expect(() => hdbscan([[0], [1]], { minClusterSize: 1 })).toThrow(/minClusterSize must be an integer >= 2/);
    expect(() => hdbscan([[0, 1], [1]])).toThrow(/row 1 has 1 values, expected 2/);
  });
});
