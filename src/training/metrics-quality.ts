// Quality figures for the eval table: adjusted Rand index (clusters vs archetypes), ROC AUC
// and average precision (churn). Definitions match scikit-learn's, ties included, so figures
// are comparable with published ones (checked against sklearn in test/fixtures).
import { ErrorCodes, UserError } from '../errors.ts';

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: got ${a.length} and ${b.length} values; both lists must be the same length`);
  }
}

const choose2 = (x: number) => (x * (x - 1)) / 2;

/** Adjusted Rand index (Hubert & Arabie); noise (-1) is treated as one more label. */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b, 'adjustedRandIndex');
  const n = a.length;
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  const cells = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
    const key = `${a[i]!},${b[i]!}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  let index = 0;
  for (const v of cells.values()) index += choose2(v);
  let sumA = 0;
  for (const v of rows.values()) sumA += choose2(v);
  let sumB = 0;
  for (const v of cols.values()) sumB += choose2(v);
  const expected = (sumA * sumB) / choose2(n);
  const max = (sumA + sumB) / 2;
  // Both partitions trivial (all one cluster, or all singletons): sklearn defines ARI = 1.
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

interface Curve {
  /** Cumulative positives / negatives at each distinct threshold, highest score first. */
  tp: number[];
  fp: number[];
  positives: number;
  negatives: number;
}

function binaryCurve(labels: ArrayLike<number>, scores: ArrayLike<number>, what: string): Curve {
  sameLength(labels, scores, what);
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((x, y) => scores[y]! - scores[x]!);
  const tp: number[] = [];
  const fp: number[] = [];
  let t = 0;
  let f = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const y = labels[i]!;
    if (y !== 0 && y !== 1) {
      throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: labels must be 0 or 1, got ${y} at position ${i}`);
    }
    if (!Number.isFinite(scores[i]!)) {
      throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: score at position ${i} is not a finite number`);
    }
    if (y === 1) t++;
    else f++;
    const next = order[k + 1];
    if (next === undefined || scores[next]! !== scores[i]!) {
      tp.push(t);
      fp.push(f);
    }
  }
  return { tp, fp, positives: t, negatives: f };
}

/** Area under the ROC curve (trapezoids over tied groups, = Mann–Whitney U / (P·N)). */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const c = binaryCurve(labels, scores, 'rocAuc');
  if (c.positives === 0 || c.negatives === 0) return Number.NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < c.tp.length; k++) {
    area += ((c.fp[k]! - prevFp) * (c.tp[k]! + prevTp)) / 2;
    prevTp = c.tp[k]!;
    prevFp = c.fp[k]!;
  }
  return area / (c.positives * c.negatives);
}

/** Average precision: Σ (R_k − R_{k−1}) · P_k over distinct thresholds (sklearn's PR AUC). */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const c = binaryCurve(labels, scores, 'averagePrecision');
  if (c.positives === 0) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < c.tp.length; k++) {
    const recall = c.tp[k]! / c.positives;
    const precision = c.tp[k]! / (c.tp[k]! + c.fp[k]!);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Reliability table (equal-width bins) and expected calibration error of probabilities. */
export function reliabilityTable(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  bins = 10,
): { bins: ReliabilityBin[]; expectedCalibrationError: number } {
  sameLength(labels, probabilities, 'reliabilityTable');
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += labels[i]!;
  }
  const out: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const c = count[b]!;
    const meanPredicted = c > 0 ? sumP[b]! / c : Number.NaN;
    const observedRate = c > 0 ? sumY[b]! / c : Number.NaN;
    if (c > 0) ece += (c / labels.length) * Math.abs(meanPredicted - observedRate);
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: c, meanPredicted, observedRate });
  }
  return { bins: out, expectedCalibrationError: ece };
}
