// Fits the churn readout (model/readout.ts): L2-regularised logistic regression on the readout
// row (readout-row.ts) by Newton's method in plain TS, with standardisation and Platt calibration
// stored in a JSON-serialisable model. `fitReadout` chooses the penalties by grouped
// cross-validation (one L2, or one per feature group), calibrates on the held-out logits and
// keeps the out-of-fold figures alert budgets need. The same code fits the eval table's
// baselines (evaluate.ts), so the table compares like with like.
//
// Why not the cluster's rate alone: on KDD courses it scored below logistic regression on
// counts, while a supervised readout on the embedding scored above it (issue 7).
import { ErrorCodes, UserError } from '../errors.ts';
import { type AssignOptions, type CentroidIndex, type NeighbourIndex } from '../model/assign.ts';
import { churnScorerDefaults } from '../model/churn-scorer.ts';
import { type LogisticModel, logisticLogit, readoutFeatureNames, readoutFeatures, sigmoid } from '../model/readout.ts';
import { readoutFeatureGroup } from '../model/readout-row.ts';
import { reliabilityTable } from './metrics-quality.ts';
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

/**
 * Newton / IRLS on a design with a trailing constant column; the intercept is not penalised.
 * `l2`: one penalty for every weight, or one per weight (penalty groups). `init`: a starting
 * point (a neighbouring penalty's solution converges in a few steps from there).
 */
function newton(rows: Float64Array[], y: ArrayLike<number>, l2: number | Float64Array, maxIterations: number, tolerance: number, init?: Float64Array): RawFit {
  const n = rows.length;
  const p = rows[0]!.length; // includes the constant column
  const beta = init ? Float64Array.from(init) : new Float64Array(p);
  const pen = typeof l2 === 'number' ? new Float64Array(p - 1).fill(l2) : l2;
  const loss = (b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let z = 0;
      const r = rows[i]!;
      for (let j = 0; j < p; j++) z += r[j]! * b[j]!;
      // log(1 + e^z) − y·z, computed without overflow
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
    }
    for (let j = 0; j < p - 1; j++) s += (pen[j]! / 2) * b[j]! * b[j]!;
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
      grad[j]! += pen[j]! * beta[j]!;
      hess[j * p + j]! += pen[j]!;
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

/** Refuses rows and labels a logistic fit cannot learn from; returns the number of features. */
function checkTrainingRows(x: readonly Vector[], y: ArrayLike<number>, what: string): number {
  const p = checkRows(x, `${what} features`);
  if (x.length !== y.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: ${x.length} feature rows but ${y.length} labels; give one label per row`);
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: labels must be 0 or 1, got ${y[i]} at row ${i}`);
    positives += y[i]!;
  }
  if (positives === 0 || positives === y.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: all ${y.length} labels are ${positives === 0 ? 0 : 1}; churn needs both outcomes to learn from`);
  }
  return p;
}

/** Fits the readout; labels are 1 (churn) / 0. */
export function fitLogistic(x: readonly Vector[], y: ArrayLike<number>, options: LogisticOptions = {}): LogisticModel {
  const o = { ...logisticDefaults, ...options };
  const p = checkTrainingRows(x, y, 'fitLogistic');
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
  /**
   * Penalty multipliers of the 'embedding' group over the base penalty (readout-row.ts
   * `readoutFeatureGroup`); [1]: one penalty for all features. Needs `featureNames`.
   */
  multipliers?: readonly number[];
  /** The penalty group of each feature; default readoutFeatureGroup. */
  groupOf?: (featureName: string) => string;
  folds?: number;
  seed?: number;
  featureNames?: string[];
  /** Groups (sessions) cross-validated at most: a seeded sample beyond, so large training sets stay quick. */
  maxGroups?: number;
  /** 'one-se': the most penalised pair within one standard error of the best (default); 'min': the best. */
  rule?: 'one-se' | 'min';
}

export const chooseL2Defaults = { candidates: [1, 3, 10, 30, 100, 300, 1000], multipliers: [1], folds: 3, seed: 42, maxGroups: 4000, rule: 'one-se' } as const;

/** The group penalised by the multipliers (the rest get the base penalty). */
export const HEAVY_GROUP = 'embedding';

export interface PenaltyScore {
  l2: number;
  /** The heavy group's penalty is l2 × multiplier. */
  multiplier: number;
  logLoss: number;
  standardError: number;
}

export interface PenaltyChoice {
  l2: number;
  multiplier: number;
  scores: PenaltyScore[];
  /** Held-out logits (uncalibrated) of every row at the chosen penalty; NaN for rows outside the CV sample. */
  oofLogit: Float64Array;
}

function penaltyVector(names: readonly string[], groupOf: (n: string) => string, l2: number, multiplier: number): Float64Array {
  return Float64Array.from(names, (n) => (groupOf(n) === HEAVY_GROUP ? l2 * multiplier : l2));
}

/**
 * The readout's penalty by grouped k-fold cross-validation on the training rows: rows of one
 * group (a session's final and prefix states) stay in one fold, so no fold is scored on states
 * of sessions it was fitted on. Every (l2, multiplier) pair is scored by its mean held-out log
 * loss; among the pairs within one standard error of the best, the most penalised one is taken
 * (the "one standard error" rule; first the heaviest penalty on the embedding group, then the
 * heaviest base penalty): when several fit about as well, the simpler model travels better (to
 * another course, to next month's traffic). Small training sets get a strong penalty, large ones
 * a weak one, without looking at any evaluation split. With multipliers [1] this is one L2 for
 * all features, as before issue 19.
 */
export function choosePenalty(x: readonly Vector[], y: ArrayLike<number>, groups: ArrayLike<number>, options: ChooseL2Options = {}): PenaltyChoice {
  const o = { ...chooseL2Defaults, ...options };
  const p = checkRows(x, 'choosePenalty features');
  const names = o.featureNames ?? Array.from({ length: p }, (_, j) => `x${j}`);
  const groupOf = o.groupOf ?? readoutFeatureGroup;
  const groupIds = [...new Set(Array.from(groups))].sort((a, b) => a - b);
  const order = seededPermutation(groupIds.length, seededRandom(o.seed)).subarray(0, o.maxGroups);
  const foldOfGroup = new Map<number, number>();
  order.forEach((g, k) => foldOfGroup.set(groupIds[g]!, k % o.folds));
  // rows of groups outside the sample get fold -1: in no training part and no held-out part
  const fold = Int32Array.from({ length: x.length }, (_, i) => foldOfGroup.get(groups[i]!) ?? -1);
  // One standardisation and design per fold, shared by every penalty.
  const parts: { train: Float64Array[]; trainY: number[]; held: Float64Array[]; heldIdx: number[] }[] = [];
  for (let f = 0; f < o.folds; f++) {
    const { trainX, trainY } = outsideFold(x, y, fold, f);
    if (trainY.length === 0 || trainY.every((v) => v === trainY[0])) continue;
    const { mean, scale } = standardiser(trainX, p);
    const heldIdx: number[] = [];
    for (let i = 0; i < x.length; i++) if (fold[i] === f) heldIdx.push(i);
    parts.push({ train: design(trainX, mean, scale), trainY, held: design(heldIdx.map((i) => x[i]!), mean, scale), heldIdx });
  }
  const scores: PenaltyScore[] = [];
  const logits: Float64Array[] = [];
  for (const multiplier of o.multipliers) {
    // ascending penalties, each fold warm-started from the previous penalty's solution
    const warm: (Float64Array | undefined)[] = parts.map(() => undefined);
    for (const l2 of [...o.candidates].sort((a, b) => a - b)) {
      const pen = penaltyVector(names, groupOf, l2, multiplier);
      const oof = new Float64Array(x.length).fill(Number.NaN);
      const losses: number[] = [];
      parts.forEach((part, k) => {
        const { beta } = newton(part.train, part.trainY, pen, logisticDefaults.maxIterations, logisticDefaults.tolerance, warm[k]);
        warm[k] = beta;
        part.held.forEach((r, h) => {
          let z = 0;
          for (let j = 0; j <= p; j++) z += r[j]! * beta[j]!;
          const i = part.heldIdx[h]!;
          oof[i] = z;
          const q = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(z)));
          losses.push(y[i] === 1 ? -Math.log(q) : -Math.log(1 - q));
        });
      });
      const n = losses.length;
      const mean = n > 0 ? losses.reduce((a, b) => a + b, 0) / n : Number.POSITIVE_INFINITY;
      const sd = n > 1 ? Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
      scores.push({ l2, multiplier, logLoss: mean, standardError: n > 0 ? sd / Math.sqrt(n) : 0 });
      logits.push(oof);
    }
  }
  const best = scores.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  let chosen = -1;
  const tolerance = o.rule === 'min' ? 0 : best.standardError;
  scores.forEach((s, k) => {
    if (s.logLoss > best.logLoss + tolerance) return;
    const c = chosen < 0 ? undefined : scores[chosen]!;
    if (!c || s.l2 * s.multiplier > c.l2 * c.multiplier || (s.l2 * s.multiplier === c.l2 * c.multiplier && s.l2 > c.l2)) chosen = k;
  });
  return { l2: scores[chosen]!.l2, multiplier: scores[chosen]!.multiplier, scores, oofLogit: logits[chosen]! };
}

/** One L2 for all features by grouped cross-validation (choosePenalty with one group). */
export function chooseL2(
  x: readonly Vector[],
  y: ArrayLike<number>,
  groups: ArrayLike<number>,
  options: Omit<ChooseL2Options, 'multipliers' | 'groupOf'> = {},
): { l2: number; scores: { l2: number; logLoss: number; standardError: number }[] } {
  const c = choosePenalty(x, y, groups, { ...options, multipliers: [1] });
  return { l2: c.l2, scores: c.scores.map(({ l2, logLoss, standardError }) => ({ l2, logLoss, standardError })) };
}

/** Levels of the stored risk distribution: 0, 0.5 %, …, 100 %. */
export const RISK_QUANTILE_LEVELS = 201;

function quantiles(values: Float64Array, levels: number): number[] {
  const sorted = Float64Array.from(values).sort();
  return Array.from({ length: levels }, (_, i) => {
    const pos = (i / (levels - 1)) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return Number((sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)).toFixed(6));
  });
}

export interface FitReadoutOptions extends ChooseL2Options {
  /** Fixed L2 for every feature instead of cross-validation (no out-of-fold figures then). */
  l2?: number;
}

export interface FitReadoutResult {
  model: LogisticModel;
  /** The cross-validation scores (absent with a fixed l2). */
  scores?: PenaltyScore[];
}

/**
 * Fits the churn readout on training rows: the penalty by grouped cross-validation
 * (choosePenalty), Platt calibration fitted on the held-out logits of that cross-validation
 * (grouped, so a session's prefixes never calibrate a model that saw the session), then the model
 * on all rows. The held-out risks, calibrated, give the model's `outOfFold` figures: Brier score
 * and reliability of final states. The final model's own risks on the training rows give
 * `riskDistribution`, each session's highest risk over its states, from which alert budgets
 * become thresholds (contracts/risk.ts). Why not the held-out risks for that too: the fold models
 * are fitted on two thirds of the sessions, so their risks spread differently from the served
 * model's, and where risks crowd near the top (KDD courses, 80-90 % dropout) a small difference in
 * spread moves many sessions across a threshold: thresholds from the held-out risks let 12-18 % of
 * sessions reach a 5 % budget, on the training sessions themselves as on the test ones.
 */
export function fitReadout(
  x: readonly Vector[],
  y: ArrayLike<number>,
  groups: ArrayLike<number>,
  isFinal: ArrayLike<boolean>,
  options: FitReadoutOptions = {},
): FitReadoutResult {
  const o = { ...chooseL2Defaults, ...options };
  const p = checkTrainingRows(x, y, 'fitReadout');
  const names = o.featureNames ?? Array.from({ length: p }, (_, j) => `x${j}`);
  if (names.length !== p) throw new UserError(ErrorCodes.INPUT_INVALID, `fitReadout: ${names.length} feature names for ${p} columns`);
  if (o.l2 !== undefined) return { model: fitLogistic(x, y, { featureNames: names, seed: o.seed, l2: o.l2 }) };
  const choice = choosePenalty(x, y, groups, { ...o, featureNames: names });
  const groupOf = o.groupOf ?? readoutFeatureGroup;
  const pen = penaltyVector(names, groupOf, choice.l2, choice.multiplier);
  const rows: number[] = [];
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(choice.oofLogit[i]!)) rows.push(i);
  const platt = newton(
    rows.map((i) => Float64Array.of(choice.oofLogit[i]!, 1)),
    rows.map((i) => y[i]!),
    1e-6,
    logisticDefaults.maxIterations,
    logisticDefaults.tolerance,
  ).beta;
  const calibration = { a: platt[0]!, b: platt[1]! };
  const { mean, scale } = standardiser(x, p);
  const { beta, iterations } = newton(design(x, mean, scale), y, pen, logisticDefaults.maxIterations, logisticDefaults.tolerance);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;

  const risk = (i: number) => sigmoid(calibration.a * choice.oofLogit[i]! + calibration.b);
  const finalY: number[] = [];
  const finalP: number[] = [];
  for (const i of rows) {
    if (!isFinal[i]) continue;
    finalY.push(y[i]!);
    finalP.push(risk(i));
  }
  // The served model's risk of every training state, as served: highest per session.
  const maxOf = new Map<number, number>();
  const served = design(x, mean, scale);
  served.forEach((r, i) => {
    let z = 0;
    for (let j = 0; j <= p; j++) z += r[j]! * beta[j]!;
    const g = groups[i]!;
    maxOf.set(g, Math.max(maxOf.get(g) ?? 0, sigmoid(calibration.a * z + calibration.b)));
  });
  const reliability = reliabilityTable(finalY, finalP).bins.filter((b) => b.count > 0);
  const round = (v: number) => Number(v.toFixed(6));
  const model: LogisticModel = {
    kind: 'logistic',
    version: 1,
    featureNames: names,
    mean,
    scale,
    weights: Array.from(beta.subarray(0, p)),
    intercept: beta[p]!,
    l2: choice.l2,
    calibration,
    training: { rows: x.length, positives, iterations },
    ...(o.multipliers.length > 1 || o.multipliers[0] !== 1
      ? { penalties: Object.fromEntries([...new Set(names.map(groupOf))].sort().map((g) => [g, g === HEAVY_GROUP ? choice.l2 * choice.multiplier : choice.l2])) }
      : {}),
    outOfFold: {
      sessions: new Set(rows.map((i) => groups[i]!)).size,
      finals: finalY.length,
      churnRate: round(finalY.reduce((a, b) => a + b, 0) / Math.max(1, finalY.length)),
      brier: round(finalY.reduce((a, v, k) => a + (finalP[k]! - v) ** 2, 0) / Math.max(1, finalY.length)),
      reliability: reliability.map((b) => ({ meanPredicted: round(b.meanPredicted), observedRate: round(b.observedRate), count: b.count })),
    },
    riskDistribution: {
      sessions: maxOf.size,
      statesPerSession: round(x.length / Math.max(1, maxOf.size)),
      sessionMaxRisk: quantiles(Float64Array.from(maxOf.values()), RISK_QUANTILE_LEVELS),
    },
  };
  return { model, scores: choice.scores };
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
