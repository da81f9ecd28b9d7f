import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/model/bundle.ts';
import { BUNDLE_FILES, type BundleManifest } from '../../../src/contracts/bundle-format.ts';
import { writeManifest } from '../../../src/training/bundle-writer.ts';
import { clusterSpaceProblem, clusterVector, rawClusterFeatures } from '../../../src/model/cluster-space.ts';
import { fitClusterSpace } from '../../../src/training/cluster-space-fit.ts';
import { evaluateBundle } from '../../../src/training/evaluate.ts';
import { defaultImageSpec, imageColumns } from '../../../src/journey/image-spec.ts';
import { seededRandom } from '../../../src/util/prng.ts';
import { type TrainReport, trainBundle } from '../../../src/training/trainer.ts';
import { type TrainingData, loadTrainingData } from '../../../src/training/training-data.ts';
import { writeSimulationFiles } from '../../../src/sim/files.ts';

const CLUSTER_SPACE_FILE = BUNDLE_FILES.clusterSpace;

describe('cluster space', () => {
  it('averages each column over the occupied rows only and adds log1p(event count)', () => {
    // 4 rows × 3 columns; rows 1 and 3 are empty (a short session in a longer window).
    const image = Float32Array.from([1, 0, 0.5, 0, 0, 0, 0, 1, 0.25, 0, 0, 0]);
    const raw = rawClusterFeatures({ image, rows: 4, cols: 3, eventCount: 9, embedding: [7, 8] }, false);
    expect(raw).toEqual([0.5, 0.5, 0.375, Math.log1p(9)]);
    // The same journey in a window twice as tall gives the same shares.
    const taller = new Float32Array(24);
    taller.set(image);
    expect(rawClusterFeatures({ image: taller, rows: 8, cols: 3, eventCount: 9, embedding: [] }, false)).toEqual(raw);
    expect(rawClusterFeatures({ image, rows: 4, cols: 3, eventCount: 9, embedding: [7, 8] }, true).slice(-2)).toEqual([7, 8]);
  });

  it('standardises every feature to its weight and zeroes constant columns', () => {
    const spec = defaultImageSpec;
    const w = imageColumns(spec).length;
    const random = seededRandom(3);
    const rows = Array.from({ length: 400 }, () => [...Array.from({ length: w }, (_, j) => (j === 0 ? 0.5 : random())), 1 + 5 * random(), random(), random()]);
    const space = fitClusterSpace(spec, rows, 2, { embeddingWeight: 0.5, lengthWeight: 2, dwellWeight: 3 });
    expect(space.featureNames).toEqual([...imageColumns(spec).map((c) => `occ:${c}`), 'logEvents', 'emb0', 'emb1']);
    const pts = rows.map((r) => {
      const image = Float32Array.from(r.slice(0, w));
      return clusterVector(space, { image, rows: 1, cols: w, eventCount: Math.expm1(r[w]!), embedding: r.slice(w + 1) });
    });
    const sd = (j: number): number => {
      const m = pts.reduce((a, p) => a + p[j]!, 0) / pts.length;
      return Math.sqrt(pts.reduce((a, p) => a + (p[j]! - m) ** 2, 0) / pts.length);
    };
    const want = (name: string): number => (name === 'occ:page_view' ? 0 : name === 'logEvents' ? 2 : name === 'occ:dwell' ? 3 : name.startsWith('emb') ? 0.5 : 1);
    space.featureNames.forEach((name, j) => expect(sd(j)).toBeCloseTo(want(name), 3));
  });

  it('names what is wrong with a cluster-space.json that does not fit the spec or encoder', () => {
    const space = fitClusterSpace(defaultImageSpec, [new Array(imageColumns(defaultImageSpec).length + 1).fill(0)], 16);
    expect(clusterSpaceProblem(space, defaultImageSpec, 16)).toBeNull();
    expect(clusterSpaceProblem({ ...space, featureNames: space.featureNames.slice(1) }, defaultImageSpec, 16)).toMatch(/not the ones/);
    expect(clusterSpaceProblem({ ...space, mean: space.mean.map(() => Number.NaN) }, defaultImageSpec, 16)).toMatch(/finite/);
    expect(clusterSpaceProblem({ version: 2 }, defaultImageSpec, 16)).toMatch(/version: 1/);
  });
});

describe('cluster space in training and serving', () => {
  let dir: string;
  let train: TrainingData;
  let report: TrainReport;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jl-cluster-space-'));
    await writeSimulationFiles({ sessions: 2000, seed: 3, outDir: join(dir, 'train') });
    await writeSimulationFiles({ sessions: 1500, seed: 7, outDir: join(dir, 'fresh') });
    train = await loadTrainingData({ events: join(dir, 'train', 'events.jsonl'), labels: join(dir, 'train', 'labels.csv') });
    report = await trainBundle(train, join(dir, 'bundle'), { seed: 1, epochs: 1 });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the very points training clustered (worker encoder, SessionView rasterization)', async () => {
    const loaded = await loadBundle(join(dir, 'bundle'));
    try {
      const served = await loaded.scorer.scoreDetailed(train.sessions.map((s) => s.final));
      let maxDiff = 0;
      served.forEach((s, i) => {
        expect(s.point.length).toBe(report.points[i]!.length);
        for (let j = 0; j < s.point.length; j++) maxDiff = Math.max(maxDiff, Math.abs(s.point[j]! - report.points[i]![j]!));
      });
      expect(maxDiff).toBeLessThan(1e-4);
      // Assignment happens in that space: most training sessions land in their own cluster.
      const same = served.filter((s, i) => !s.assignment.novel && s.assignment.clusterId === report.clusterOf[i]).length;
      expect(same / served.length).toBeGreaterThan(0.9);
    } finally {
      await loaded.scorer.close();
    }
  });

  it('recovers the generator archetypes on fresh sessions (ARI ≥ 0.7 from 2,000 training sessions)', async () => {
    const loaded = await loadBundle(join(dir, 'bundle'), { encoder: 'inline' });
    try {
      const fresh = await loadTrainingData({ events: join(dir, 'fresh', 'events.jsonl'), labels: join(dir, 'fresh', 'labels.csv') });
      const r = await evaluateBundle(loaded, fresh);
      expect(r.ari).toBeGreaterThanOrEqual(0.7);
    } finally {
      await loaded.scorer.close();
    }
  });

  it('refuses a bundle whose cluster-space.json does not fit its encoder, naming the file', async () => {
    const copy = join(dir, 'tampered');
    mkdirSync(copy);
    for (const f of readdirSync(join(dir, 'bundle'))) writeFileSync(join(copy, f), readFileSync(join(dir, 'bundle', f)));
    const space = JSON.parse(readFileSync(join(copy, CLUSTER_SPACE_FILE), 'utf8')) as { featureNames: string[] };
    writeFileSync(join(copy, CLUSTER_SPACE_FILE), JSON.stringify({ ...space, featureNames: space.featureNames.map((n) => `${n}x`) }));
    const { files: _f, formatVersion: _v, ...rest } = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as BundleManifest;
    rmSync(join(copy, 'manifest.json'));
    writeManifest(copy, rest);
    await expect(loadBundle(copy, { encoder: 'inline' })).rejects.toThrow(/cluster-space\.json: its features/);
  });
});
