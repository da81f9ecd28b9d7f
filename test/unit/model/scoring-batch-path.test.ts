// The scoring core's batch path (points flat, assignment into typed columns, the exact neighbours
// search, the readout row written in one pass) against the per-view definitions it replaces: identical answers, to the last bit.
import { describe, expect, it } from 'vitest';
import { type AssignedColumns, CentroidIndex, NeighbourIndex } from '../../../src/model/assign.ts';
import { type Centroid, type CentroidModel } from '../../../src/model/centroid-model.ts';
import { type ClusterSpace, clusterPointsFlat, rawClusterFeatures } from '../../../src/model/cluster-space.ts';
import { ExactKnn } from '../../../src/model/exact-knn.ts';
import { seededRandom } from '../../../src/util/prng.ts';
import { defaultImageSpec, type ImageSpec, imageWidth } from '../../../src/journey/image-spec.ts';
import { buildReadoutRow, imageFeatureNames, type ReadoutInputs, readoutRowWriter } from '../../../src/model/readout-row.ts';
import { type LogisticModel, predictLogistic, readoutPredictor } from '../../../src/model/readout.ts';

function columns(n: number): AssignedColumns {
  return { clusterId: new Int32Array(n), centroidId: new Int32Array(n), distance: new Float64Array(n), novel: new Uint8Array(n), churnRate: new Float64Array(n) };
}

function model(space: 'l2' | 'cosine', count: number, dim: number, seed: number): CentroidModel {
  const random = seededRandom(seed);
  const centroids: Centroid[] = Array.from({ length: count }, (_, i) => ({
    centroidId: i,
    clusterId: i % 5,
    vector: Array.from({ length: dim }, () => random() * 2 - 1),
    // some radii cover many points, some none: both branches of the novelty test
    radius: space === 'l2' ? [0.05, 0.6, 1.2][i % 3]! : [0.01, 0.2, 0.6][i % 3]!,
    size: 10,
    labelled: 10,
    churned: i % 7,
    churnRate: (i % 7) / 10,
  }));
  return { space, globalChurnRate: 0.4, centroids, clusters: [] };
}

describe('scoring batch path', () => {
  for (const space of ['l2', 'cosine'] as const) {
    it(`assignInto equals assign() per point (${space}, with and without radius scale)`, () => {
      const dim = 23;
      const index = CentroidIndex.build(model(space, 24, dim, 11));
      const random = seededRandom(12);
      const n = 500;
      const points = Float32Array.from({ length: n * dim }, () => random() * 2 - 1);
      // a few points exactly on a centroid, and a zero vector (cosine's special case)
      points.set(index.centroids[3]!.vector, 7 * dim);
      points.fill(0, 9 * dim, 10 * dim);
      for (const options of [{}, { k: 1 }, { k: 5, radiusScale: 0.7 }]) {
        const out = columns(n);
        index.assignInto(points, n, options, out);
        let novel = 0;
        for (let i = 0; i < n; i++) {
          const a = index.assign(points.subarray(i * dim, (i + 1) * dim), options);
          expect([out.clusterId[i], out.centroidId[i], out.distance[i], out.novel[i] === 1, out.churnRate[i]]).toEqual([a.clusterId, a.centroidId, a.distance, a.novel, a.churnRate]);
          if (a.novel) novel++;
        }
        expect(novel).toBeGreaterThan(0);
        expect(novel).toBeLessThan(n);
      }
    });
  }

  it('assignInto refuses points of another dimension', () => {
    const index = CentroidIndex.build(model('l2', 4, 3, 1));
    expect(() => index.assignInto(new Float32Array(8), 2, {}, columns(2))).toThrow(/dimension 3/);
  });

  it('clusterPointsFlat equals the standardised raw features of each view, rounded once to float32', () => {
    const rows = 6;
    const cols = 4;
    const dim = 3;
    const n = 40;
    const random = seededRandom(5);
    const space: ClusterSpace = {
      version: 1,
      featureNames: [...Array.from({ length: cols }, (_, c) => `occ:c${c}`), 'logEvents', ...Array.from({ length: dim }, (_, j) => `emb${j}`)],
      mean: Array.from({ length: cols + 1 + dim }, () => random()),
      factor: Array.from({ length: cols + 1 + dim }, () => 0.5 + random()),
    };
    // sparse images with empty rows, so the occupied-row shares matter
    const images = Float32Array.from({ length: n * rows * cols }, () => (random() < 0.6 ? 0 : random()));
    const embeddings = Float32Array.from({ length: n * dim }, () => random() * 4 - 2);
    const counts = Float64Array.from({ length: n }, (_, i) => i * 3);
    const flat = clusterPointsFlat(space, images, counts, embeddings, rows, cols);
    const f = space.featureNames.length;
    for (let i = 0; i < n; i++) {
      const raw = rawClusterFeatures({ image: images.subarray(i * rows * cols, (i + 1) * rows * cols), rows, cols, eventCount: counts[i]!, embedding: embeddings.subarray(i * dim, (i + 1) * dim) }, true);
      const want = raw.map((v, j) => Math.fround((v - space.mean[j]!) * space.factor[j]!));
      expect(Array.from(flat.subarray(i * f, (i + 1) * f))).toEqual(want);
    }
  });
});

describe('exact neighbours', () => {
  /** The definition: the k smallest by (squared distance, index). */
  function brute(rows: Float32Array, dim: number, q: ArrayLike<number>, k: number, exclude = -1): number[] {
    const n = rows.length / dim;
    const d: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      if (i === exclude) continue;
      let s = 0;
      for (let j = 0; j < dim; j++) s += (q[j]! - rows[i * dim + j]!) ** 2;
      d.push([s, i]);
    }
    d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return d.slice(0, k).map((x) => x[1]);
  }

  it('finds the k nearest by (distance, index), duplicates and exclusion included', () => {
    const dim = 16;
    const n = 3000;
    const random = seededRandom(21);
    // correlated axes (the rotation matters) and many exact duplicates (ties on distance)
    const rows = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      if (i % 5 === 4) {
        rows.copyWithin(i * dim, (i - 1) * dim, i * dim);
        continue;
      }
      const a = random() * 4;
      const b = random();
      for (let j = 0; j < dim; j++) rows[i * dim + j] = a * (j % 3) + b * (j % 2) + 0.1 * random();
    }
    const knn = new ExactKnn(rows, n, dim);
    const out = new Int32Array(25);
    for (let t = 0; t < 200; t++) {
      // queries: fresh points, and points of the set itself (ties with their duplicates)
      const q = t % 2 === 0 ? Float32Array.from({ length: dim }, (_, j) => rows[((t * 13) % n) * dim + j]!) : Float32Array.from({ length: dim }, (_, j) => (j % 3) * 2 + random());
      for (const k of [1, 25]) {
        const exclude = t % 4 === 0 ? (t * 13) % n : -1;
        const got = Array.from(out.subarray(0, knn.search(q, k, out, exclude))).sort((a, b) => a - b);
        expect(got).toEqual(brute(rows, dim, q, k, exclude).sort((a, b) => a - b));
      }
    }
    // fewer points than k
    const few = new ExactKnn(rows.subarray(0, 3 * dim), 3, dim);
    expect(few.search(rows.subarray(0, dim), 25, out)).toBe(3);
  });

  it('averages over the k nearest with the points tied at the k-th distance sharing the last places', () => {
    const dim = 4;
    // 40 copies of one point (half of them churned, stored churned first) and 200 scattered ones
    const random = seededRandom(8);
    const n = 240;
    const rows = new Float32Array(n * dim);
    const values = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) rows[i * dim + j] = i < 40 ? 1 : 3 + random();
      values[i] = i < 40 ? (i < 20 ? 1 : 0) : random() < 0.3 ? 1 : 0;
    }
    const knn = new ExactKnn(rows, n, dim);
    const brute = (q: Float32Array, k: number, exclude: number): number => {
      const d = Array.from({ length: n }, (_, i) => i)
        .filter((i) => i !== exclude)
        .map((i) => ({ i, d: Array.from({ length: dim }, (_, j) => (q[j]! - rows[i * dim + j]!) ** 2).reduce((a, b) => a + b, 0) }));
      d.sort((a, b) => a.d - b.d);
      const kth = d[k - 1]!.d;
      const nearer = d.filter((x) => x.d < kth);
      const tied = d.filter((x) => x.d === kth);
      return (nearer.reduce((a, x) => a + values[x.i]!, 0) + ((k - nearer.length) * tied.reduce((a, x) => a + values[x.i]!, 0)) / tied.length) / k;
    };
    // a query on the copies: 25 places, 40 tied at distance 0, half churned, whatever their order
    const onCopies = rows.slice(0, dim);
    expect(knn.meanOf(onCopies, 25, values)).toEqual({ mean: 0.5, count: 25 });
    expect(knn.meanOf(onCopies, 25, values, 3).mean).toBeCloseTo(19 / 39, 12);
    for (let t = 0; t < 100; t++) {
      const q = Float32Array.from({ length: dim }, () => (t % 3 === 0 ? 1 : 1 + 3 * random()));
      for (const k of [1, 7, 25, 60]) {
        const exclude = t % 5 === 0 ? t : -1;
        expect(knn.meanOf(q, k, values, exclude).mean).toBeCloseTo(brute(q, k, exclude), 12);
      }
    }
    // fewer points than k: the mean over all
    expect(new ExactKnn(rows.subarray(0, 2 * dim), 2, dim).meanOf(onCopies, 25, values)).toEqual({ mean: 1, count: 2 });
  });

  it('NeighbourIndex searches exactly by default, with hnswlib on request, and both agree here', () => {
    const random = seededRandom(4);
    const rows = Array.from({ length: 400 }, () => Array.from({ length: 8 }, () => random()));
    const churn = rows.map((r) => (r[0]! > 0.5 ? 1 : 0));
    const index = NeighbourIndex.build(rows, churn);
    expect(index.search).toBe('exact');
    index.prepare();
    const flat = Float32Array.from(rows.flat());
    for (let t = 0; t < 50; t++) {
      const q = rows[t * 7]!;
      const ids = brute(flat, 8, Float32Array.from(q), 10, t * 7);
      const want = ids.filter((i) => churn[i] === 1).length / 10;
      expect(index.churnRate(q, 10, t * 7)).toEqual({ rate: want, neighbours: 10 });
    }
    index.setSearchEf(200);
    expect(index.search).toBe(200);
    index.prepare(); // nothing to build for hnswlib
    // an easy, well-separated query: hnswlib finds the same neighbours
    expect(index.churnRate([0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 10).rate).toBe(1);
    index.setExactSearch();
    expect(index.search).toBe('exact');
  });
});

describe('readout predictor', () => {
  const spec: ImageSpec = { ...defaultImageSpec, rows: 6 };
  const w = imageWidth(spec);
  const dim = 4;
  const names = [...Array.from({ length: dim }, (_, j) => `emb${j}`), 'clusterChurnRate', 'knnChurnRate', 'quietMinutes', 'ageMinutes', ...imageFeatureNames(spec)];

  /** The definition of each feature, computed the plain way. */
  function definedRow(x: ReadoutInputs): number[] {
    const means = Array.from({ length: w }, (_, c) => {
      let s = 0;
      for (let r = 0; r < spec.rows; r++) s += x.image[r * w + c]!;
      return s / spec.rows;
    });
    const { asOf, windowEnd, sessionStart } = x.timing;
    return [...Array.from(x.embedding), x.clusterChurnRate, x.knnChurnRate, Math.log1p(Math.max(0, asOf - windowEnd) / 60_000), Math.log1p(Math.max(0, asOf - sessionStart) / 60_000), ...means];
  }

  function inputs(random: () => number, i: number): ReadoutInputs {
    const t0 = 1_700_000_000_000 + i * 1000;
    return {
      embedding: Float32Array.from({ length: dim }, () => random() * 6 - 3),
      clusterChurnRate: random(),
      knnChurnRate: i % 5 === 0 ? 0.4 : random(),
      // sparse, as journey images are; every third view empty
      image: Float32Array.from({ length: spec.rows * w }, () => (i % 3 === 0 || random() < 0.7 ? 0 : random())),
      // asOf before windowEnd on some views: quiet time clamps at 0
      timing: { sessionStart: t0, windowStart: t0, windowEnd: t0 + 60_000 * (i % 7), asOf: t0 + 45_000 * (i % 11), eventCount: 1 + (i % 9) },
    };
  }

  it('gives the risk of predictLogistic over the defined feature row, to the last bit, call after call', () => {
    const random = seededRandom(31);
    const model: LogisticModel = {
      kind: 'logistic',
      version: 1,
      featureNames: names,
      mean: names.map(() => random() - 0.5),
      scale: names.map(() => 0.2 + random()),
      weights: names.map(() => random() * 4 - 2),
      intercept: -0.3,
      l2: 1,
      calibration: { a: 1.3, b: -0.2 },
      training: { rows: 1, positives: 1, iterations: 1 },
    };
    const predict = readoutPredictor(model, spec);
    const write = readoutRowWriter(names, spec);
    const row = new Float64Array(names.length);
    const xs = Array.from({ length: 300 }, (_, i) => inputs(random, i));
    // twice over, so a value left in the reused scratch by one view would show in another
    for (const x of [...xs, ...xs.reverse()]) {
      const want = definedRow(x);
      write(x, row);
      expect(Array.from(row)).toEqual(want);
      expect(Array.from(buildReadoutRow(names, spec, x))).toEqual(want);
      expect(predict(x)).toBe(predictLogistic(model, want));
    }
    expect(readoutPredictor({ ...model, calibration: null }, spec)(xs[0]!)).toBe(predictLogistic({ ...model, calibration: null }, definedRow(xs[0]!)));
  });

  it('refuses a readout whose names and weights differ in number, and an embedding too short for its names', () => {
    const model = { kind: 'logistic', version: 1, featureNames: ['emb0', 'emb5'], mean: [0], scale: [1], weights: [1], intercept: 0, l2: 1, calibration: null, training: { rows: 1, positives: 1, iterations: 1 } } as const;
    expect(() => readoutPredictor({ ...model, featureNames: [...model.featureNames] , mean: [...model.mean], scale: [...model.scale], weights: [...model.weights] }, spec)).toThrow(/2 feature names but 1 weights/);
    const predict = readoutPredictor({ ...model, featureNames: ['emb5'], mean: [0], scale: [1], weights: [1] }, spec);
    expect(() => predict(inputs(seededRandom(1), 1))).toThrow(/emb5 needs a 6-d embedding, got 4-d/);
  });
});
