// Assignment latency: HNSW (CentroidIndex.assign, default parameters) against exact
// brute-force search over the same centroids, in the same run, with recall@1 of HNSW
// against the exact answer. Random uniform 16-d centroids: a hard case for HNSW (no cluster
// structure), so real centroids should do at least as well.
//
//   npx tsx bench/assign.ts [--quick]
import { CentroidIndex, exactNearest, hnswDefaults } from '../src/model/assign.ts';
import { type Centroid } from '../src/model/centroid-model.ts';
import { seededRandom } from '../src/util/prng.ts';

const quick = process.argv.includes('--quick');
const dim = 16;
const sizes = quick ? [16, 1000, 10_000] : [16, 1000, 100_000];
const queries = quick ? 300 : 1000;

function percentile(sortedMs: Float64Array, q: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(q * sortedMs.length))]!;
}

function summarise(samples: number[]) {
  const s = Float64Array.from(samples).sort();
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { p50Ms: round(percentile(s, 0.5)), p99Ms: round(percentile(s, 0.99)) };
}

const results = [];
for (const n of sizes) {
  const random = seededRandom(n);
  const centroids: Centroid[] = Array.from({ length: n }, (_, i) => ({
    centroidId: i,
    clusterId: i,
    vector: Array.from({ length: dim }, () => random()),
    radius: 0.5,
    size: 1,
    labelled: 0,
    churned: 0,
    churnRate: 0,
  }));
  const rows = centroids.map((c) => c.vector);
  const t0 = performance.now();
  const index = CentroidIndex.build({ space: 'l2', globalChurnRate: 0, centroids, clusters: [] });
  const buildMs = performance.now() - t0;
  const qs = Array.from({ length: queries }, () => Float32Array.from({ length: dim }, () => random()));
  // Warm-up so JIT compilation is not billed to the first queries.
  for (const q of qs.slice(0, 20)) {
    index.assign(q);
    exactNearest(rows, q);
  }
  const hnswMs: number[] = [];
  const exactMs: number[] = [];
  let hits = 0;
  for (const q of qs) {
    let t = performance.now();
    const a = index.assign(q, { k: 1 });
    hnswMs.push(performance.now() - t);
    t = performance.now();
    const e = exactNearest(rows, q);
    exactMs.push(performance.now() - t);
    if (a.centroidId === e.id) hits++;
  }
  const hnsw = summarise(hnswMs);
  const exact = summarise(exactMs);
  results.push({
    centroids: n,
    buildMs: Math.round(buildMs),
    recallAt1: hits / queries,
    hnsw,
    exact,
    speedupP50: Math.round((exact.p50Ms / hnsw.p50Ms) * 10) / 10,
  });
}

console.log(
  JSON.stringify({
    bench: 'assign',
    quick,
    dim,
    queries,
    params: hnswDefaults,
    node: process.version,
    results,
  }),
);
