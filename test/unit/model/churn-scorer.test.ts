import { describe, expect, it } from 'vitest';
import { CentroidIndex, NeighbourIndex } from '../../../src/model/assign.ts';
import { buildCentroids } from '../../../src/training/centroids.ts';
import { ChurnScorer } from '../../../src/model/churn-scorer.ts';
import { readoutFeatureNames, readoutFeatures } from '../../../src/model/readout.ts';
import { fitLogistic } from '../../../src/training/readout-fit.ts';
import { gaussian, seededRandom } from '../../../src/util/prng.ts';

// Two clusters; inside each, churn depends on the second coordinate, which the cluster rate
// cannot see but a readout on the embedding can.
const random = seededRandom(9);
const points: number[][] = [];
const labels: number[] = [];
const churn: number[] = [];
for (let i = 0; i < 400; i++) {
  const c = i % 2;
  const p = [c * 10 + gaussian(random), gaussian(random)];
  points.push(p);
  labels.push(c);
  churn.push(random() < 1 / (1 + Math.exp(-(3 * p[1]! + (c ? 1 : -1)))) ? 1 : 0);
}
const model = buildCentroids(points, labels, churn);
const centroids = CentroidIndex.build(model, new Map([[0, 'a'], [1, 'b']]));
const neighbours = NeighbourIndex.build(points, churn);

describe('ChurnScorer', () => {
  it('without a readout, the risk is the centroid rate, or its blend with the kNN rate', () => {
    const plain = new ChurnScorer({ centroids });
    const s = plain.score([10, 0]);
    expect(s.source).toBe('cluster');
    expect(s.churnRisk).toBe(model.centroids[s.assignment.centroidId]!.churnRate);
    const blended = new ChurnScorer({ centroids, neighbours, knnWeight: 0.5, knnK: 10 }).score([10, 2.5]);
    expect(blended.source).toBe('cluster+knn');
    expect(blended.churnRisk).toBeCloseTo(0.5 * blended.assignment.churnRate + 0.5 * blended.knnChurnRate!, 12);
    expect(blended.knnChurnRate).toBeGreaterThan(blended.assignment.churnRate);
  });

  it('with a readout trained on embedding + cluster rate, ranks within a cluster and bands the risk', () => {
    const rows = points.map((p, i) => readoutFeatures(p, { clusterChurnRate: model.centroids[labels[i]!]!.churnRate }));
    const readout = fitLogistic(rows, churn, { featureNames: readoutFeatureNames(2, { cluster: true }) });
    const scorer = new ChurnScorer({ centroids, readout, thresholds: { medium: 0.3, high: 0.7 } });
    const low = scorer.score([0, -2]);
    const high = scorer.score([0, 2]);
    expect(low.source).toBe('readout');
    expect(low.assignment.clusterId).toBe(high.assignment.clusterId);
    expect(low.churnRisk).toBeLessThan(0.3);
    expect(high.churnRisk).toBeGreaterThan(0.7);
    expect([low.riskBand, high.riskBand]).toEqual(['low', 'high']);
  });

  it('refuses a readout that needs kNN rates when there is no neighbour index', () => {
    const rows = points.map((p) => readoutFeatures(p, { knnChurnRate: 0.5 + 0.1 * gaussian(random) }));
    const readout = fitLogistic(rows, churn, { featureNames: readoutFeatureNames(2, { knn: true }), calibration: 'none' });
    expect(() => new ChurnScorer({ centroids, readout })).toThrow(/uses knnChurnRate but the bundle has no neighbour index/);
    expect(new ChurnScorer({ centroids, readout, neighbours }).score([0, 0]).knnChurnRate).not.toBeNull();
  });
});
