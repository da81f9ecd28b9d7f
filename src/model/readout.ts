// The churn readout as served: a logistic model (standardisation, weights, Platt calibration)
// read from the bundle's readout.json, its prediction, and risk bands. It is fitted by
// training/readout-fit.ts.
//
// Why not the cluster's rate alone: on KDD courses it scored below logistic regression on
// counts, while a supervised readout on the embedding scored above it (issue 7).
import { z } from 'zod';
import { type RiskBand } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type Vector } from './vectors.ts';

const modelSchema = z.object({
  kind: z.literal('logistic'),
  version: z.literal(1),
  featureNames: z.array(z.string()),
  mean: z.array(z.number()),
  scale: z.array(z.number()),
  weights: z.array(z.number()),
  intercept: z.number(),
  l2: z.number(),
  calibration: z.object({ a: z.number(), b: z.number() }).nullable(),
  training: z.object({ rows: z.number(), positives: z.number(), iterations: z.number() }),
});

export type LogisticModel = z.infer<typeof modelSchema>;

/** Validates a model read from a bundle. */
export function parseLogisticModel(json: unknown, source = 'readout model'): LogisticModel {
  const parsed = modelSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `${source}: /${issue.path.join('/')} ${issue.message}; retrain or restore the bundle`);
  }
  const m = parsed.data;
  const p = m.featureNames.length;
  if (m.mean.length !== p || m.scale.length !== p || m.weights.length !== p) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `${source}: ${p} feature names but ${m.mean.length}/${m.scale.length}/${m.weights.length} means/scales/weights`);
  }
  return m;
}

/** The logistic function, computed without overflow. */
export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** The linear score (log-odds before calibration). */
export function logisticLogit(model: LogisticModel, x: Vector): number {
  const p = model.weights.length;
  if (x.length !== p) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `readout expects ${p} features (${model.featureNames.slice(0, 3).join(', ')}…), got ${x.length}`);
  }
  let z = model.intercept;
  for (let j = 0; j < p; j++) z += ((x[j]! - model.mean[j]!) / model.scale[j]!) * model.weights[j]!;
  return z;
}

/** Churn probability (calibrated when the model carries a calibration). */
export function predictLogistic(model: LogisticModel, x: Vector): number {
  const z = logisticLogit(model, x);
  return model.calibration ? sigmoid(model.calibration.a * z + model.calibration.b) : sigmoid(z);
}

export function predictLogisticBatch(model: LogisticModel, x: readonly Vector[]): Float64Array {
  return Float64Array.from(x, (r) => predictLogistic(model, r));
}


export interface RiskThresholds {
  /** Risk at or above this is 'medium'. */
  medium: number;
  /** Risk at or above this is 'high'. */
  high: number;
}

export const riskThresholdDefaults: RiskThresholds = { medium: 0.4, high: 0.7 };

export function checkRiskThresholds(t: RiskThresholds): RiskThresholds {
  if (!(t.medium > 0 && t.medium < t.high && t.high <= 1)) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `risk thresholds must satisfy 0 < medium < high <= 1, got medium=${t.medium}, high=${t.high}`,
      { exitCode: 2 },
    );
  }
  return t;
}

export function riskBand(risk: number, thresholds: RiskThresholds = riskThresholdDefaults): RiskBand {
  if (risk >= thresholds.high) return 'high';
  if (risk >= thresholds.medium) return 'medium';
  return 'low';
}

export interface ReadoutExtras {
  /** The assigned centroid's smoothed churn rate. */
  clusterChurnRate?: number;
  /** Churn share of the nearest labelled training embeddings. */
  knnChurnRate?: number;
}

/** Feature names for an embedding readout of dimension `dim`, in `readoutFeatures` order. */
export function readoutFeatureNames(dim: number, extras: { cluster?: boolean; knn?: boolean } = {}): string[] {
  const names = Array.from({ length: dim }, (_, j) => `emb${j}`);
  if (extras.cluster) names.push('clusterChurnRate');
  if (extras.knn) names.push('knnChurnRate');
  return names;
}

/** Embedding plus the optional rates, as one feature row. */
export function readoutFeatures(embedding: Vector, extras: ReadoutExtras = {}): number[] {
  const row = Array.from(embedding);
  if (extras.clusterChurnRate !== undefined) row.push(extras.clusterChurnRate);
  if (extras.knnChurnRate !== undefined) row.push(extras.knnChurnRate);
  return row;
}

