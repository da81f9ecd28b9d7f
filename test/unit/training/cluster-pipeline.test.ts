// The model/ pieces end to end on synthetic embeddings with known archetypes: HDBSCAN →
// centroids → labels → HNSW assignment → readout, as the trainer and scorer will chain them.
import { describe, expect, it } from 'vitest';
import { CentroidIndex, NeighbourIndex } from '../../../src/model/assign.ts';
import { buildCentroids } from '../../../src/training/centroids.ts';
import { labelClusters, type SessionSummary } from '../../../src/training/cluster-labels.ts';
import { ChurnScorer } from '../../../src/model/churn-scorer.ts';
import { hdbscan } from '../../../src/training/hdbscan.ts';
import { adjustedRandIndex, rocAuc } from '../../../src/training/metrics-quality.ts';
import { fitLogistic, readoutTrainingRows } from '../../../src/training/readout-fit.ts';
import { gaussian, seededRandom } from '../../../src/util/prng.ts';

const D = 16;
const ARCHETYPES = [
  { path: ['search', 'compare'], churn: -1.5 },
  { path: ['product_view', 'add_to_cart', 'checkout'], churn: -2.5 },
  { path: ['support_contact', 'support_contact', 'logout'], churn: 1 },
  { path: ['page_view', 'logout'], churn: 0 },
];

function makeSet(n: number, seed: number) {
  const random = seededRandom(seed);
  const centres = ARCHETYPES.map((_, a) => Array.from({ length: D }, (__, d) => (d < 12 && d % ARCHETYPES.length === a ? 6 : 0)));
  const embeddings: Float32Array[] = [];
  const archetype: number[] = [];
  const churn: number[] = [];
  const summaries: SessionSummary[] = [];
  for (let i = 0; i < n; i++) {
    const a = i % ARCHETYPES.length;
    const e = Float32Array.from(centres[a]!, (c) => c + 0.7 * gaussian(random));
    // Within an archetype, churn also depends on dimension 15, which no archetype uses: the
    // cluster rate cannot see it, a readout on the embedding can.
    const z = ARCHETYPES[a]!.churn + 2 * e[15]!;
    embeddings.push(e);
    archetype.push(a);
    churn.push(random() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    summaries.push({ path: ARCHETYPES[a]!.path, stats: { dwellMs: a === 0 ? 90_000 : 20_000 } });
  }
  return { embeddings, archetype, churn, summaries };
}

describe('clustering → assignment → readout', () => {
  const train = makeSet(800, 1);
  const test = makeSet(400, 2);
  const clustering = hdbscan(train.embeddings, { minClusterSize: 20 });
  const model = buildCentroids(train.embeddings, clustering.labels, train.churn);
  const names = labelClusters(train.summaries, clustering.labels, { statWords: { dwellMs: ['short dwell', 'long dwell'] } });
  const centroids = CentroidIndex.build(model, names);
  const neighbours = NeighbourIndex.build(train.embeddings, train.churn);

  it('HDBSCAN recovers the archetypes (adjusted Rand >= 0.8, noise counted as a label)', () => {
    expect(clustering.clusterCount).toBe(ARCHETYPES.length);
    expect(adjustedRandIndex(clustering.labels, train.archetype)).toBeGreaterThanOrEqual(0.8);
  });

  it('new sessions are assigned to their archetype through HNSW, with a readable label', () => {
    const assigned = centroids.assignBatch(test.embeddings);
    expect(adjustedRandIndex(assigned.map((a) => a.clusterId), test.archetype)).toBeGreaterThanOrEqual(0.95);
    const searchCluster = assigned[0]!.clusterId;
    expect(names.get(searchCluster)).toBe('search → compare → leave, long dwell');
    expect(assigned.filter((a) => a.novel).length).toBeLessThan(0.1 * assigned.length);
  });

  it('the readout on embedding + rates ranks churn better than the cluster rate alone', () => {
    const t = readoutTrainingRows(train.embeddings, train.churn, { centroids, neighbours, clusterRate: true });
    const readout = fitLogistic(t.rows, t.labels, { featureNames: t.featureNames });
    const withReadout = new ChurnScorer({ centroids, neighbours, readout }).scoreBatch(test.embeddings);
    const clusterOnly = new ChurnScorer({ centroids }).scoreBatch(test.embeddings);
    const aucReadout = rocAuc(test.churn, withReadout.map((s) => s.churnRisk));
    const aucCluster = rocAuc(test.churn, clusterOnly.map((s) => s.churnRisk));
    expect(aucReadout).toBeGreaterThan(aucCluster + 0.05);
    expect(aucReadout).toBeGreaterThan(0.8);
  });
});
