// One embedding → cluster assignment + churn risk + band. The risk comes from the supervised
// readout when the bundle has one (fed the cluster and kNN rates if it was trained on them),
// else from the centroid's smoothed churn rate, optionally blended with the kNN rate.
import { ErrorCodes, UserError } from '../errors.ts';
import { type AssignOptions, type Assignment, type CentroidIndex, type NeighbourIndex } from './assign.ts';
import {
  checkRiskThresholds,
  predictLogistic,
  readoutFeatureNames,
  readoutFeatures,
  riskBand,
  riskThresholdDefaults,
  type LogisticModel,
  type RiskBand,
  type RiskThresholds,
} from './readout.ts';
import { type Vector } from './vectors.ts';

export interface ChurnScorerOptions {
  centroids: CentroidIndex;
  neighbours?: NeighbourIndex;
  readout?: LogisticModel;
  thresholds?: RiskThresholds;
  /** Neighbours used for the kNN churn rate. */
  knnK?: number;
  /** Without a readout: risk = (1 − w)·cluster rate + w·kNN rate. */
  knnWeight?: number;
  assign?: AssignOptions;
}

export interface ChurnScore {
  assignment: Assignment;
  knnChurnRate: number | null;
  churnRisk: number;
  riskBand: RiskBand;
  /** Which model produced the risk. */
  source: 'readout' | 'cluster' | 'cluster+knn';
}

export const churnScorerDefaults = { knnK: 25, knnWeight: 0.5 } as const;

export class ChurnScorer {
  private readonly o: ChurnScorerOptions & { thresholds: RiskThresholds; knnK: number; knnWeight: number };
  private readonly readoutWants: { cluster: boolean; knn: boolean; dim: number };

  constructor(options: ChurnScorerOptions) {
    this.o = {
      ...churnScorerDefaults,
      ...options,
      thresholds: checkRiskThresholds(options.thresholds ?? riskThresholdDefaults),
    };
    const names = options.readout?.featureNames ?? [];
    this.readoutWants = {
      cluster: names.includes('clusterChurnRate'),
      knn: names.includes('knnChurnRate'),
      dim: names.filter((n) => n.startsWith('emb')).length,
    };
    if (this.readoutWants.knn && !options.neighbours) {
      throw new UserError(ErrorCodes.BUNDLE_INVALID, 'the churn readout uses knnChurnRate but the bundle has no neighbour index; add it or retrain the readout without kNN');
    }
    if (options.readout && this.readoutWants.dim !== options.centroids.dim) {
      throw new UserError(ErrorCodes.BUNDLE_INVALID, `the churn readout expects ${this.readoutWants.dim}-d embeddings but the centroid index is ${options.centroids.dim}-d; retrain both from the same encoder`);
    }
  }

  /** `point`: where the centroid index lives (the bundle's cluster space); default the embedding. */
  score(embedding: Vector, point: Vector = embedding): ChurnScore {
    const assignment = this.o.centroids.assign(point, this.o.assign);
    const needKnn = this.o.neighbours !== undefined && (this.o.readout === undefined || this.readoutWants.knn);
    const knn = needKnn ? this.o.neighbours!.churnRate(embedding, this.o.knnK).rate : Number.NaN;
    const knnChurnRate = Number.isNaN(knn) ? null : knn;
    let churnRisk: number;
    let source: ChurnScore['source'];
    if (this.o.readout) {
      const row = readoutFeatures(embedding, {
        ...(this.readoutWants.cluster ? { clusterChurnRate: assignment.churnRate } : {}),
        ...(this.readoutWants.knn ? { knnChurnRate: knnChurnRate ?? this.o.centroids.globalChurnRate } : {}),
      });
      churnRisk = predictLogistic(this.o.readout, row);
      source = 'readout';
    } else if (knnChurnRate !== null) {
      churnRisk = (1 - this.o.knnWeight) * assignment.churnRate + this.o.knnWeight * knnChurnRate;
      source = 'cluster+knn';
    } else {
      churnRisk = assignment.churnRate;
      source = 'cluster';
    }
    return { assignment, knnChurnRate, churnRisk, riskBand: riskBand(churnRisk, this.o.thresholds), source };
  }

  scoreBatch(embeddings: readonly Vector[]): ChurnScore[] {
    return embeddings.map((e) => this.score(e));
  }
}

export interface ReadoutTrainingOptions {
  centroids: CentroidIndex;
  /** Adds the kNN churn rate, leave-one-out (a row never sees its own outcome). */
  neighbours?: NeighbourIndex;
  /** Adds the assigned centroid's churn rate (as served; it includes the row's own label, diluted by the prior). */
  clusterRate?: boolean;
  knnK?: number;
  assign?: AssignOptions;
}

/**
 * Feature rows for fitting the readout on training embeddings, built exactly as
 * `ChurnScorer.score` builds them at serving time. `churn` must be the same array the
 * NeighbourIndex was built from (NaN rows were not indexed and are skipped here too);
 * `index` maps each returned row back to its embedding.
 */
export function readoutTrainingRows(
  embeddings: readonly Vector[],
  churn: ArrayLike<number>,
  options: ReadoutTrainingOptions,
): { rows: number[][]; labels: number[]; index: number[]; featureNames: string[] } {
  const knnK = options.knnK ?? churnScorerDefaults.knnK;
  const rows: number[][] = [];
  const labels: number[] = [];
  const index: number[] = [];
  let labelledPosition = 0;
  for (let i = 0; i < embeddings.length; i++) {
    if (Number.isNaN(churn[i]!)) continue;
    const e = embeddings[i]!;
    const extras: { clusterChurnRate?: number; knnChurnRate?: number } = {};
    if (options.clusterRate) extras.clusterChurnRate = options.centroids.assign(e, options.assign).churnRate;
    if (options.neighbours) {
      const knn = options.neighbours.churnRate(e, knnK, labelledPosition).rate;
      extras.knnChurnRate = Number.isNaN(knn) ? options.centroids.globalChurnRate : knn;
    }
    rows.push(readoutFeatures(e, extras));
    labels.push(churn[i]! > 0 ? 1 : 0);
    index.push(i);
    labelledPosition++;
  }
  const dim = embeddings[0]?.length ?? 0;
  return {
    rows,
    labels,
    index,
    featureNames: readoutFeatureNames(dim, { cluster: options.clusterRate === true, knn: options.neighbours !== undefined }),
  };
}
