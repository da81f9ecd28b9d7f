// One embedding → cluster assignment + churn risk + band. The risk comes from the supervised
// readout when the bundle has one (fed the cluster and kNN rates if it was trained on them),
// else from the centroid's smoothed churn rate, optionally blended with the kNN rate.
import { type RiskBand } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type AssignedColumns, type AssignOptions, type Assignment, type CentroidIndex, type NeighbourIndex } from './assign.ts';
import { checkRiskThresholds, riskBand, riskThresholdDefaults, type RiskThresholds } from '../contracts/risk.ts';
import { predictLogistic, readoutFeatures, type LogisticModel } from './readout.ts';
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

  /** The nearest centroid of `point` (the bundle's cluster space, or the embedding itself). */
  assign(point: Vector): Assignment {
    return this.o.centroids.assign(point, this.o.assign);
  }

  /** assign() for n points stored flat, into typed columns (the scoring core's batch path). */
  assignInto(points: Float32Array, n: number, out: AssignedColumns): void {
    this.o.centroids.assignInto(points, n, this.o.assign ?? {}, out);
  }

  get hasNeighbours(): boolean {
    return this.o.neighbours !== undefined;
  }

  /** Whether score() uses the kNN rate: for its readout if that asks for it, else for the blend. */
  wantsKnn(): boolean {
    return this.o.neighbours !== undefined && (this.o.readout === undefined || this.readoutWants.knn);
  }

  /** Churn share of the embedding's k nearest labelled training embeddings (NaN without an index). */
  knnRate(embedding: Vector): number {
    return this.o.neighbours ? this.o.neighbours.churnRate(embedding, this.o.knnK).rate : Number.NaN;
  }

  /** Without a readout: the cluster's rate, blended with the kNN rate when there is one. */
  risk(assignment: Assignment, knnChurnRate: number | null): Pick<ChurnScore, 'churnRisk' | 'riskBand' | 'source'> {
    return this.riskOf(assignment.churnRate, knnChurnRate);
  }

  /** risk() from the assigned centroid's churn rate. */
  riskOf(clusterChurnRate: number, knnChurnRate: number | null): Pick<ChurnScore, 'churnRisk' | 'riskBand' | 'source'> {
    const churnRisk = knnChurnRate !== null ? (1 - this.o.knnWeight) * clusterChurnRate + this.o.knnWeight * knnChurnRate : clusterChurnRate;
    return { churnRisk, riskBand: riskBand(churnRisk, this.o.thresholds), source: knnChurnRate !== null ? 'cluster+knn' : 'cluster' };
  }

  /** `point`: where the centroid index lives (the bundle's cluster space); default the embedding. */
  score(embedding: Vector, point: Vector = embedding): ChurnScore {
    const assignment = this.assign(point);
    const knn = this.wantsKnn() ? this.knnRate(embedding) : Number.NaN;
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
    } else {
      return { assignment, knnChurnRate, ...this.risk(assignment, knnChurnRate) };
    }
    return { assignment, knnChurnRate, churnRisk, riskBand: riskBand(churnRisk, this.o.thresholds), source };
  }

  scoreBatch(embeddings: readonly Vector[]): ChurnScore[] {
    return embeddings.map((e) => this.score(e));
  }
}
