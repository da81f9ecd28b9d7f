// Fits the churn readout (model/readout.ts): L2-regularised logistic regression on the
// embedding (optionally plus the cluster's churn rate and the kNN churn rate) by Newton's method
// in plain TS, with standardisation and Platt calibration stored in a JSON-serialisable model.
// The same code fits the baseline on raw per-type counts, so the eval table compares like with
// like.
//
// Why not the cluster's rate alone: on KDD courses it scored below logistic regression on
// counts, while a supervised readout on the embedding scored above it (issue 7).
import { ErrorCodes, UserError } from '../errors.ts';
import { type AssignOptions, type CentroidIndex, type NeighbourIndex } from '../model/assign.ts';
import { churnScorerDefaults } from '../model/churn-scorer.ts';
import { type LogisticModel, logisticLogit, predictLogistic, readoutFeatureNames, readoutFeatures, sigmoid } from '../model/readout.ts';
import { checkRows, type Vector } from '../model/vectors.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';

export interface LogisticOptions {
  /** L2 penalty on the standardised weights (not the intercept): loss = Σ logloss + l2/2·|w|². */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest Newton step is below this. */
  tolerance?: number;
  featureNames?: string[];
  /**
   * 'platt': map the logit through σ(a·z + b), with a, b fitted on out-of-fold logits
   * (`calibrationFolds` folds), so the final model is trained on all rows yet calibrated on
   * rows it did not see. 'none': the raw logistic output.
   */
  calibration?: 'platt' | 'none';
  calibrationFolds?: number;
  seed?: number;
}

type FitSettings = Omit<Required<LogisticOptions>, 'featureNames'>;

export const logisticDefaults: FitSettings = {
  l2: 1,
  maxIterations: 50,
  tolerance: 1e-8,
  calibration: 'platt',
  calibrationFolds: 3,
  seed: 42,
};

/** Solves A x = b for symmetric positive-definite A (row-major p×p) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      if (i === j) l[i * p + i] = Math.sqrt(Math.max(s, 1e-12));
      else l[i * p + j] = s / l[j * p + j]!;
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * y[k]!;
    y[i] = s / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  return x;
}

interface RawFit {
  /** [w_1..w_p, intercept] on standardised inputs. */
  beta: Float64Array;
  iterations: number;
}

/** Newton / IRLS on a design with a trailing constant column; the intercept is not penalised. */
function newton(rows: Float64Array[], y: ArrayLike<number>, l2: number, maxIterations: number, tolerance: number): RawFit {
  const n = rows.length;
  const p = rows[0]!.length; // includes the constant column
  const beta = new Float64Array(p);
  const loss = (b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let z = 0;
      const r = rows[i]!;
      for (let j = 0; j < p; j++) z += r[j]! * b[j]!;
      // log(1 + e^z) − y·z, computed without overflow
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
    }
    for (let j = 0; j < p - 1; j++) s += (l2 / 2) * b[j]! * b[j]!;
    return s;
  };
  let current = loss(beta);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      let z = 0;
      for (let j = 0; j < p; j++) z += r[j]! * beta[j]!;
      const mu = sigmoid(z);
      const w = Math.max(mu * (1 - mu), 1e-10);
      const e = mu - y[i]!;
      for (let j = 0; j < p; j++) {
        const rj = r[j]!;
        if (rj === 0) continue;
        grad[j]! += e * rj;
        const wr = w * rj;
        for (let k = 0; k <= j; k++) hess[j * p + k]! += wr * r[k]!;
      }
    }
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) hess[k * p + j] = hess[j * p + k]!;
    for (let j = 0; j < p - 1; j++) {
      grad[j]! += l2 * beta[j]!;
      hess[j * p + j]! += l2;
    }
    // A whisker of ridge on the intercept keeps separable data solvable.
    hess[(p - 1) * p + (p - 1)]! += 1e-9;
    const step = solveSpd(hess, grad, p);
    // Damped Newton: halve the step until the loss does not increase.
    let t = 1;
    let next = beta.map((b, j) => b - t * step[j]!);
    let nextLoss = loss(next);
    while (nextLoss > current && t > 1e-6) {
      t /= 2;
      next = beta.map((b, j) => b - t * step[j]!);
      nextLoss = loss(next);
    }
    const maxStep = Math.max(...step.map((s) => Math.abs(t * s)));
    beta.set(next);
    current = nextLoss;
    if (maxStep < tolerance) {
      iterations++;
      break;
    }
  }
  return { beta, iterations };
}

function standardiser(x: readonly Vector[], p: number): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(p).fill(0);
  const sq = new Array<number>(p).fill(0);
  for (const r of x) for (let j = 0; j < p; j++) mean[j]! += r[j]!;
  for (let j = 0; j < p; j++) mean[j]! /= x.length;
  for (const r of x) for (let j = 0; j < p; j++) sq[j]! += (r[j]! - mean[j]!) ** 2;
  // A constant column gets scale 1 (its weight is then shrunk to 0 by the penalty).
  const scale = sq.map((s) => Math.sqrt(s / x.length) || 1);
  return { mean, scale };
}

function design(x: readonly Vector[], mean: number[], scale: number[]): Float64Array[] {
  const p = mean.length;
  return x.map((r) => {
    const out = new Float64Array(p + 1);
    for (let j = 0; j < p; j++) out[j] = (r[j]! - mean[j]!) / scale[j]!;
    out[p] = 1;
    return out;
  });
}

function fitUncalibrated(x: readonly Vector[], y: ArrayLike<number>, o: FitSettings, names: string[]): LogisticModel {
  const p = names.length;
  const { mean, scale } = standardiser(x, p);
  const { beta, iterations } = newton(design(x, mean, scale), y, o.l2, o.maxIterations, o.tolerance);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  return {
    kind: 'logistic',
    version: 1,
    featureNames: names,
    mean,
    scale,
    weights: Array.from(beta.subarray(0, p)),
    intercept: beta[p]!,
    l2: o.l2,
    calibration: null,
    training: { rows: x.length, positives, iterations },
  };
}

/** The rows of every fold but `f` (rows in fold -1 are in none). */
function outsideFold(x: readonly Vector[], y: ArrayLike<number>, fold: Int32Array, f: number): { trainX: Vector[]; trainY: number[] } {
  const trainX: Vector[] = [];
  const trainY: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (fold[i] === f || fold[i] === -1) continue;
    trainX.push(x[i]!);
    trainY.push(y[i]!);
  }
  return { trainX, trainY };
}

/** Fits the readout; labels are 1 (churn) / 0. */
export function fitLogistic(x: readonly Vector[], y: ArrayLike<number>, options: LogisticOptions = {}): LogisticModel {
  const o = { ...logisticDefaults, ...options };
  const p = checkRows(x, 'fitLogistic features');
  if (x.length !== y.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `fitLogistic: ${x.length} feature rows but ${y.length} labels; give one label per row`);
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new UserError(ErrorCodes.INPUT_INVALID, `fitLogistic: labels must be 0 or 1, got ${y[i]} at row ${i}`);
    positives += y[i]!;
  }
  if (positives === 0 || positives === y.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `fitLogistic: all ${y.length} labels are ${positives === 0 ? 0 : 1}; churn needs both outcomes to learn from`);
  }
  if (!(o.l2 >= 0)) throw new UserError(ErrorCodes.CONFIG_INVALID, `readout.l2 must be >= 0, got ${o.l2}`, { exitCode: 2 });
  const names = options.featureNames ?? Array.from({ length: p }, (_, j) => `x${j}`);
  if (names.length !== p) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `fitLogistic: ${names.length} feature names for ${p} columns`);
  }
  const model = fitUncalibrated(x, y, o, names);
  if (o.calibration === 'none') return model;

  const folds = Math.max(2, o.calibrationFolds);
  const order = seededPermutation(x.length, seededRandom(o.seed));
  const fold = new Int32Array(x.length);
  order.forEach((row, k) => (fold[row] = k % folds));
  const oofLogit: number[][] = [];
  const oofY: number[] = [];
  for (let f = 0; f < folds; f++) {
    const { trainX, trainY } = outsideFold(x, y, fold, f);
    if (trainY.every((v) => v === trainY[0])) continue;
    const m = fitUncalibrated(trainX, trainY, o, names);
    for (let i = 0; i < x.length; i++) {
      if (fold[i] !== f) continue;
      oofLogit.push([logisticLogit(m, x[i]!)]);
      oofY.push(y[i]!);
    }
  }
  // Platt: a 1-feature logistic fit on unstandardised out-of-fold logits, barely penalised.
  const { beta } = newton(
    oofLogit.map((r) => Float64Array.of(r[0]!, 1)),
    oofY,
    1e-6,
    o.maxIterations,
    o.tolerance,
  );
  return { ...model, calibration: { a: beta[0]!, b: beta[1]! } };
}

export interface ChooseL2Options {
  candidates?: readonly number[];
  folds?: number;
  seed?: number;
  featureNames?: string[];
  /** Groups (sessions) cross-validated at most: a seeded sample beyond, so large training sets stay quick. */
  maxGroups?: number;
}

export const chooseL2Defaults = { candidates: [1, 3, 10, 30, 100, 300, 1000], folds: 3, seed: 42, maxGroups: 4000 } as const;

/**
 * The readout's L2 penalty by grouped k-fold cross-validation on the training rows: rows of one
 * group (a session's final and prefix states) stay in one fold, so no fold is scored on states
 * of sessions it was fitted on. Among the candidates, the largest penalty whose mean held-out
 * log loss is within one standard error of the best is taken (the "one standard error" rule):
 * when several penalties fit about as well, the simpler model travels better (to another
 * course, to next month's traffic). Small training sets get a strong penalty, large ones a
 * weak one, without looking at any evaluation split.
 */
export function chooseL2(
  x: readonly Vector[],
  y: ArrayLike<number>,
  groups: ArrayLike<number>,
  options: ChooseL2Options = {},
): { l2: number; scores: { l2: number; logLoss: number; standardError: number }[] } {
  const o = { ...chooseL2Defaults, ...options };
  const groupIds = [...new Set(Array.from(groups))].sort((a, b) => a - b);
  const order = seededPermutation(groupIds.length, seededRandom(o.seed)).subarray(0, o.maxGroups);
  const foldOfGroup = new Map<number, number>();
  order.forEach((g, k) => foldOfGroup.set(groupIds[g]!, k % o.folds));
  // rows of groups outside the sample get fold -1: in no training part and no held-out part
  const fold = Int32Array.from({ length: x.length }, (_, i) => foldOfGroup.get(groups[i]!) ?? -1);
  const scores: { l2: number; logLoss: number; standardError: number }[] = [];
  for (const l2 of o.candidates) {
    const losses: number[] = [];
    for (let f = 0; f < o.folds; f++) {
      const { trainX, trainY } = outsideFold(x, y, fold, f);
      if (trainY.length === 0 || trainY.every((v) => v === trainY[0])) continue;
      const m = fitLogistic(trainX, trainY, { l2, calibration: 'none', ...(o.featureNames ? { featureNames: o.featureNames } : {}) });
      for (let i = 0; i < x.length; i++) {
        if (fold[i] !== f) continue;
        const p = Math.min(1 - 1e-12, Math.max(1e-12, predictLogistic(m, x[i]!)));
        losses.push(y[i] === 1 ? -Math.log(p) : -Math.log(1 - p));
      }
    }
    const n = losses.length;
    const mean = n > 0 ? losses.reduce((a, b) => a + b, 0) / n : Number.POSITIVE_INFINITY;
    const sd = n > 1 ? Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    scores.push({ l2, logLoss: mean, standardError: n > 0 ? sd / Math.sqrt(n) : 0 });
  }
  const best = scores.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  const l2 = Math.max(...scores.filter((s) => s.logLoss <= best.logLoss + best.standardError).map((s) => s.l2));
  return { l2, scores };
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
