// Quality of a bundle on labelled history: churn ROC AUC / PR AUC of the served churnRisk
// (final session states, and the 50 % prefixes a live session shows halfway through), of the
// cluster churn rate alone, and of the labelled-neighbour rate alone; the adjusted Rand index
// of the clusters against ground-truth archetypes when known; and, computed in the same run on
// the same sessions, logistic regression on per-type event counts: the baseline the embedding
// readout must beat. The baseline is trained on `baselineTrain` (the bundle's training data)
// when given, else 5-fold cross-validated on the evaluation data itself (stated in the table).
import { type LoadedBundle } from '../model/bundle.ts';
import { averagePrecision, rocAuc } from './metrics-quality.ts';
import { predictLogisticBatch } from '../model/readout.ts';
import { fitLogistic } from './readout-fit.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';
import { type TrainingData, type TrainingSession, archetypeAri } from './training-data.ts';

export interface Auc {
  rocAuc: number;
  prAuc: number;
}

export interface EvalResult {
  modelVersion: string;
  sessions: number;
  labelled: number;
  churnRate: number;
  churnRisk: Auc;
  /** churnRisk of the session's prefix nearest 50 % of its events (sessions with a prefix). */
  churnRiskHalfway: Auc | null;
  clusterRate: Auc;
  knnRate: Auc | null;
  baseline: Auc & { how: string };
  ari: number | null;
  clustersFound: number;
  noveltyShare: number;
}

/** log1p count per event type of the spec (unknown types summed into "other"), plus log1p of the total. */
export function countFeatures(s: TrainingSession, eventTypes: readonly string[]): number[] {
  const row = new Array<number>(eventTypes.length + 2).fill(0);
  let total = 0;
  for (const [t, c] of Object.entries(s.summary.types ?? {})) {
    const j = eventTypes.indexOf(t);
    row[j >= 0 ? j : eventTypes.length]! += c;
    total += c;
  }
  row[eventTypes.length + 1] = total;
  return row.map((v) => Math.log1p(v));
}

function auc(labels: number[], scores: ArrayLike<number>): Auc {
  return { rocAuc: rocAuc(labels, scores), prAuc: averagePrecision(labels, scores) };
}

function baselineScores(evalRows: TrainingSession[], eventTypes: readonly string[], train: TrainingData | undefined, seed: number): { scores: Float64Array; how: string } {
  const xe = evalRows.map((s) => countFeatures(s, eventTypes));
  if (train) {
    const rows = train.sessions.filter((s) => !Number.isNaN(s.label));
    const model = fitLogistic(rows.map((s) => countFeatures(s, eventTypes)), rows.map((s) => s.label), { seed });
    return { scores: predictLogisticBatch(model, xe), how: `trained on the ${rows.length} labelled training sessions` };
  }
  const folds = 5;
  const order = seededPermutation(evalRows.length, seededRandom(seed));
  const scores = new Float64Array(evalRows.length);
  for (let f = 0; f < folds; f++) {
    const test = new Set<number>();
    for (let i = f; i < order.length; i += folds) test.add(order[i]!);
    const tx: number[][] = [];
    const ty: number[] = [];
    evalRows.forEach((s, i) => {
      if (test.has(i)) return;
      tx.push(xe[i]!);
      ty.push(s.label);
    });
    const model = fitLogistic(tx, ty, { seed });
    const idx = [...test];
    const p = predictLogisticBatch(model, idx.map((i) => xe[i]!));
    idx.forEach((i, j) => (scores[i] = p[j]!));
  }
  return { scores, how: '5-fold cross-validated on the evaluation sessions' };
}

export async function evaluateBundle(bundle: LoadedBundle, data: TrainingData, options: { baselineTrain?: TrainingData; seed?: number } = {}): Promise<EvalResult> {
  const seed = options.seed ?? 42;
  const scorer = bundle.scorer;
  const finals = await scorer.scoreDetailed(data.sessions.map((s) => s.final));
  // Novel sessions are HDBSCAN's noise: count them as their own group, as training does.
  const ari = archetypeAri(data, (i) => (finals[i]!.assignment.novel ? -1 : finals[i]!.assignment.clusterId));
  const idx = data.sessions.map((_, i) => i).filter((i) => !Number.isNaN(data.sessions[i]!.label));
  const labels = idx.map((i) => data.sessions[i]!.label);
  const labelled = idx.map((i) => data.sessions[i]!);
  const halfway: { view: TrainingSession['final']; label: number }[] = [];
  for (const s of labelled) {
    if (s.prefixes.length === 0) continue;
    const best = s.prefixes.reduce((a, b) => (Math.abs(b.eventCount - s.eventCount / 2) < Math.abs(a.eventCount - s.eventCount / 2) ? b : a));
    halfway.push({ view: best, label: s.label });
  }
  const half = halfway.length > 0 ? await scorer.scoreDetailed(halfway.map((h) => h.view)) : [];
  const knn = idx.map((i) => finals[i]!.knnChurnRate);
  const base = baselineScores(labelled, data.spec.image.eventTypes, options.baselineTrain, seed);
  return {
    modelVersion: bundle.modelVersion,
    sessions: data.sessions.length,
    labelled: idx.length,
    churnRate: labels.reduce((a, b) => a + b, 0) / Math.max(1, labels.length),
    churnRisk: auc(labels, idx.map((i) => finals[i]!.churnRisk)),
    churnRiskHalfway: half.length > 0 ? auc(halfway.map((h) => h.label), half.map((h) => h.churnRisk)) : null,
    clusterRate: auc(labels, idx.map((i) => finals[i]!.assignment.churnRate)),
    knnRate: knn.every((k) => k !== null) ? auc(labels, knn as number[]) : null,
    baseline: { ...auc(labels, base.scores), how: base.how },
    ari,
    clustersFound: new Set(finals.map((f) => f.assignment.clusterId)).size,
    noveltyShare: finals.filter((f) => f.assignment.novel).length / Math.max(1, finals.length),
  };
}

const f3 = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));

/** The quality table (markdown), with the `ROC AUC: 0.xxx` line for churnRisk. */
export function formatEvalTable(r: EvalResult, title: string): string {
  const lines = [
    `### ${title}`,
    '',
    `ROC AUC: ${f3(r.churnRisk.rocAuc)}`,
    '',
    `model ${r.modelVersion}; ${r.sessions} sessions, ${r.labelled} labelled, churn rate ${(r.churnRate * 100).toFixed(1)}%`,
    '',
    '| score | ROC AUC | PR AUC |',
    '|---|---|---|',
    `| churnRisk (bundle readout, final state) | **${f3(r.churnRisk.rocAuc)}** | ${f3(r.churnRisk.prAuc)} |`,
    ...(r.churnRiskHalfway ? [`| churnRisk at the 50 % prefix | ${f3(r.churnRiskHalfway.rocAuc)} | ${f3(r.churnRiskHalfway.prAuc)} |`] : []),
    `| cluster churn rate alone | ${f3(r.clusterRate.rocAuc)} | ${f3(r.clusterRate.prAuc)} |`,
    ...(r.knnRate ? [`| kNN churn rate alone | ${f3(r.knnRate.rocAuc)} | ${f3(r.knnRate.prAuc)} |`] : []),
    `| baseline: logistic regression on per-type counts (${r.baseline.how}) | ${f3(r.baseline.rocAuc)} | ${f3(r.baseline.prAuc)} |`,
    '',
    `clusters used: ${r.clustersFound}; novel (beyond every radius): ${(r.noveltyShare * 100).toFixed(1)}%` +
      (r.ari === null ? '' : `; ARI vs archetypes: ${f3(r.ari)}`),
    '',
  ];
  return lines.join('\n');
}
