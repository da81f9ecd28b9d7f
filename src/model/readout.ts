// The churn readout as served: a logistic model (standardisation, weights, Platt calibration)
// read from the bundle's readout.json, and its prediction. It is fitted by
// training/readout-fit.ts; its feature row is built by readout-row.ts; risk bands come from the
// one risk setting (contracts/risk.ts).
//
// Why not the cluster's rate alone: on KDD courses it scored below logistic regression on
// counts, while a supervised readout on the embedding scored above it (issue 7).
import { z } from 'zod';
import { ErrorCodes, UserError } from '../errors.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { type ReadoutInputs, readoutRowWriter } from './readout-row.ts';
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
  /**
   * Penalty per feature group when the groups were penalised apart (readout-fit.ts
   * `penaltyGroupOf`): group name → L2 on its standardised weights. Absent: `l2` for all.
   */
  penalties: z.record(z.string(), z.number()).optional(),
  /**
   * What the readout scored on training sessions it was not fitted on (grouped cross-validation
   * at the chosen penalty, calibrated like the model): the Brier score and reliability of final
   * states, and the distribution of each session's highest risk over its scored states, which
   * turns an alert budget ("the riskiest 5 %") into a threshold (contracts/risk.ts).
   */
  outOfFold: z
    .object({
      sessions: z.number(),
      finals: z.number(),
      churnRate: z.number(),
      brier: z.number(),
      reliability: z.array(z.object({ meanPredicted: z.number(), observedRate: z.number(), count: z.number() })),
      /**
       * Bundles trained before the budget fix only: the out-of-fold per-session highest risk.
       * Not used for budgets (the fold models' risks spread differently from the served model's:
       * on KDD a 5 % budget reached 12-18 % of sessions); kept so those bundles still parse.
       */
      sessionMaxRisk: z.array(z.number()).min(2).optional(),
    })
    .optional(),
  /**
   * The served model's risks on its training sessions: the distribution (quantiles at levels
   * i / (length − 1), ascending) of each session's highest risk over the states it was trained
   * on (final and prefix states), scored exactly as served. An alert budget ("the riskiest 5 %")
   * becomes the threshold at that share of this distribution (contracts/risk.ts).
   */
  riskDistribution: z
    .object({
      sessions: z.number(),
      statesPerSession: z.number(),
      sessionMaxRisk: z.array(z.number()).min(2),
    })
    .optional(),
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
  for (const [path, q] of [['outOfFold/sessionMaxRisk', m.outOfFold?.sessionMaxRisk], ['riskDistribution/sessionMaxRisk', m.riskDistribution?.sessionMaxRisk]] as const) {
    if (q && q.some((v, i) => !(v >= 0 && v <= 1) || (i > 0 && v < q[i - 1]!))) {
      throw new UserError(ErrorCodes.BUNDLE_INVALID, `${source}: /${path} must be ascending risks in [0, 1]; retrain or restore the bundle`);
    }
  }
  return m;
}

/**
 * The quantiles alert budgets resolve against (`riskDistribution.sessionMaxRisk`); undefined for
 * a readout trained before it existed, so a budget then asks for a retrain.
 */
export function budgetQuantiles(model: LogisticModel | undefined): number[] | undefined {
  return model?.riskDistribution?.sessionMaxRisk;
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


/**
 * The served prediction as one pure function of typed inputs: the readout's feature row
 * (readout-row.ts) for this bundle's image spec, then the calibrated logistic model, computed as
 * predictLogistic computes it (same operations in the same order, so the same risk to the bit).
 * Compiled once per bundle; one row is reused across calls, so a predictor is for one thread
 * (each scoring thread compiles its own when it loads the bundle).
 */
export function readoutPredictor(model: LogisticModel, spec: ImageSpec): (x: ReadoutInputs) => number {
  const write = readoutRowWriter(model.featureNames, spec);
  const p = model.weights.length;
  if (model.featureNames.length !== p) throw new UserError(ErrorCodes.BUNDLE_INVALID, `readout: ${model.featureNames.length} feature names but ${p} weights; retrain or restore the bundle`);
  const row = new Float64Array(p);
  const mean = Float64Array.from(model.mean);
  const scale = Float64Array.from(model.scale);
  const weights = Float64Array.from(model.weights);
  const { intercept, calibration } = model;
  return (x) => {
    write(x, row);
    let z = intercept;
    for (let j = 0; j < p; j++) z += ((row[j]! - mean[j]!) / scale[j]!) * weights[j]!;
    return calibration ? sigmoid(calibration.a * z + calibration.b) : sigmoid(z);
  };
}
