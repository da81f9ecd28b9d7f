import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CentroidIndex, NeighbourIndex, exactNearest, hnswDefaults } from '../../../src/model/assign.ts';
import { type Centroid, type CentroidModel } from '../../../src/model/centroid-model.ts';
import { buildCentroids } from '../../../src/training/centroids.ts';
import { gaussian, seededRandom } from '../../../src/util/prng.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'jl-assign-'));
  dirs.push(d);
  return d;
};

function randomModel(n: number, dim: number, seed: number): CentroidModel {
  const random = seededRandom(seed);
  const centroids: Centroid[] = Array.from({ length: n }, (_, i) => ({
    centroidId: i,
    clusterId: i,
    vector: Array.from({ length: dim }, () => random()),
    radius: 0.5,
    size: 10,
    labelled: 10,
    churned: i % 10,
    churnRate: (i % 10) / 10,
  }));
  return { space: 'l2', globalChurnRate: 0.45, centroids, clusters: [] };
}

function recallAt1(n: number): number {
  const model = randomModel(n, 16, n);
  const index = CentroidIndex.build(model);
  const rows = model.centroids.map((c) => c.vector);
  const random = seededRandom(n + 1);
  const queries = 500;
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const x = Array.from({ length: 16 }, () => random());
    if (index.nearest(x, 1)[0]!.centroidId === exactNearest(rows, x).id) hits++;
  }
  return hits / queries;
}

describe('CentroidIndex recall at the default settings', () => {
  it('recall@1 >= 0.99 against exact search, 1,000 random 16-d centroids', () => {
    expect(recallAt1(1000)).toBeGreaterThanOrEqual(0.99);
  });
  it('recall@1 >= 0.99 against exact search, 10,000 random 16-d centroids', () => {
    expect(recallAt1(10_000)).toBeGreaterThanOrEqual(0.99);
  }, 120_000);
});

describe('CentroidIndex assignment', () => {
  const random = seededRandom(5);
  const centres = [
    [0, 0, 0, 0],
    [10, 0, 0, 0],
    [0, 10, 0, 0],
  ];
  const points: number[][] = [];
  const labels: number[] = [];
  const churn: number[] = [];
  centres.forEach((c, k) => {
    for (let i = 0; i < 60; i++) {
      points.push(c.map((x) => x + gaussian(random)));
      labels.push(k);
      churn.push(k === 2 ? 1 : i % 4 === 0 ? 1 : 0);
    }
  });
  const model = buildCentroids(points, labels, churn);
  const names = new Map([
    [0, 'browse → leave'],
    [1, 'search → buy'],
    [2, 'support → cancel'],
  ]);

  it('assigns a point to its cluster with label, distance and churn rate', () => {
    const index = CentroidIndex.build(model, names);
    const a = index.assign([9.5, 0.3, 0, 0]);
    expect(a.clusterId).toBe(1);
    expect(a.label).toBe('search → buy');
    expect(a.novel).toBe(false);
    expect(a.distance).toBeCloseTo(Math.hypot(...[9.5, 0.3, 0, 0].map((x, j) => x - model.centroids[1]!.vector[j]!)), 5);
    expect(a.churnRate).toBe(model.centroids[1]!.churnRate);
  });

  it('flags a point beyond every nearby radius as novel', () => {
    const index = CentroidIndex.build(model, names);
    const a = index.assign([30, 30, 30, 30]);
    expect(a.novel).toBe(true);
    expect(a.distance).toBeGreaterThan(model.centroids[a.centroidId]!.radius);
    expect(index.assign([30, 30, 30, 30], { radiusScale: 100 }).novel).toBe(false);
  });

  it('batched assignment equals one-by-one assignment', () => {
    const index = CentroidIndex.build(model, names);
    const qs = points.slice(0, 20);
    expect(index.assignBatch(qs)).toEqual(qs.map((q) => index.assign(q)));
  });

  it('save/load round-trips parameters (including ef), labels and answers', () => {
    const dir = tempDir();
    const index = CentroidIndex.build(model, names, { ef: 77, m: 8 });
    const paths = index.save(dir);
    expect(paths.index.endsWith('centroids.hnsw')).toBe(true);
    const loaded = CentroidIndex.load(dir);
    expect(loaded.params).toEqual({ ...hnswDefaults, ef: 77, m: 8 });
    expect(loaded.assignBatch(points)).toEqual(index.assignBatch(points));
  });

  it('refuses a corrupt sidecar, a wrong query dimension and bad parameters with clear messages', () => {
    const dir = tempDir();
    CentroidIndex.build(model).save(dir);
    writeFileSync(join(dir, 'centroids.json'), '{"version": 99}');
    expect(() => CentroidIndex.load(dir)).toThrow(/has version 99; this build reads version 1/);
    expect(() => CentroidIndex.build(model).assign([1, 2])).toThrow(/embedding has 2 values but the index was built for dimension 4/);
    expect(() => CentroidIndex.build(model, names, { ef: 0 })).toThrow(/hnsw.ef must be a positive integer, got 0/);
  });

  it('cosine space: distances are 1 − cos', () => {
    const cosModel = buildCentroids(points, labels, churn, { space: 'cosine' });
    const index = CentroidIndex.build(cosModel);
    const a = index.assign([0, 10, 0.1, 0]);
    expect(a.clusterId).toBe(2);
    expect(a.distance).toBeGreaterThanOrEqual(0);
    expect(a.distance).toBeLessThan(0.05);
  });
});

describe('NeighbourIndex', () => {
  it('gives the churn share of the nearest labelled embeddings, leave-one-out on request', () => {
    const rows = [...Array.from({ length: 30 }, (_, i) => [0, i * 0.01]), ...Array.from({ length: 30 }, (_, i) => [5, i * 0.01])];
    const churn: number[] = rows.map((r) => (r[0] === 5 ? 1 : 0));
    churn[0] = Number.NaN;
    const index = NeighbourIndex.build(rows, churn);
    expect(index.size).toBe(59);
    expect(index.churnRate([5, 0.1], 10)).toEqual({ rate: 1, neighbours: 10 });
    expect(index.churnRate([0, 0.1], 10).rate).toBe(0);
    const dir = tempDir();
    index.save(dir);
    const loaded = NeighbourIndex.load(dir);
    expect(loaded.churnRate([5, 0.1], 10)).toEqual(index.churnRate([5, 0.1], 10));
    // leave-one-out: a lone churner's own outcome must not leak into its kNN feature
    const line = Array.from({ length: 10 }, (_, i) => [0, i]);
    const lone = NeighbourIndex.build(line, line.map((_, i) => (i === 0 ? 1 : 0)));
    expect(lone.churnRate(line[0]!, 1)).toEqual({ rate: 1, neighbours: 1 });
    expect(lone.churnRate(line[0]!, 1, 0)).toEqual({ rate: 0, neighbours: 1 });
    expect(lone.churnRate(line[0]!, 3, 0).neighbours).toBe(3);
  });
});
