// Quality of a bundle on labelled history, computed in one run on the same sessions:
// - churn ROC AUC / PR AUC of the served churnRisk (final states, and the 50 % prefix a live
//   session shows halfway through), of the cluster churn rate alone and of the labelled-neighbour
//   rate alone; Brier score and reliability of churnRisk;
// - two baselines the readout must beat, fitted on `baselineTrain` (the bundle's training
//   sessions) when given, else 5-fold cross-validated on the evaluation sessions (stated in the
//   table): the fair one (issue 19), logistic regression on log per-type counts plus the same
//   time facts the readout sees (log minutes quiet and old at asOf, the same in the image's time
//   unit, active image rows), its L2 chosen by the readout's own grouped cross-validation and
//   calibrated the same way; and the plain one on per-type counts alone (fixed L2);
// - alerts at the bundle's risk thresholds (the one risk setting, contracts/risk.ts): per band the
//   share of sessions that reach it, precision, lift over the base rate and recall, on final states
//   and on each session's highest risk over its scored states (a live session alerts when it
//   first crosses, so this is the share a CRM team would receive);
// - the adjusted Rand index of the clusters against ground-truth archetypes when known.
import { type LoadedBundle } from '../model/bundle.ts';
import { formatRiskSetting, resolveRiskSetting, type RiskSetting } from '../contracts/risk.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { type SessionView } from '../journey/session-view.ts';
import { AGE_FEATURE, QUIET_FEATURE, readoutRowBuilder, SUMMARY_PREFIX } from '../model/readout-row.ts';
import { predictLogisticBatch } from '../model/readout.ts';
import { averagePrecision, type ReliabilityBin, reliabilityTable, rocAuc } from './metrics-quality.ts';
import { fitLogistic, fitReadout } from './readout-fit.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';
import { type TrainingData, type TrainingSession, archetypeAri } from './training-data.ts';

export interface Auc {
  rocAuc: number;
  prAuc: number;
}

export interface Calibration {
  brier: number;
  /** Equal-width bins of 0.1 that hold sessions. */
  reliability: ReliabilityBin[];
}

export interface AlertRow {
  band: 'medium' | 'high';
  threshold: number;
  /** 'final': final states; 'max': each session's highest risk over its prefixes and final state. */
  on: 'final' | 'max';
  alerted: number;
  share: number;
  precision: number;
  /** precision / base rate. */
  lift: number;
  recall: number;
}

export interface AlertSet {
  setting: string;
  medium: number;
  high: number;
  rows: AlertRow[];
}

export interface EvalResult {
  modelVersion: string;
  sessions: number;
  labelled: number;
  churnRate: number;
  churnRisk: Auc & Calibration;
  /** churnRisk of the session's prefix nearest 50 % of its events (sessions with a prefix). */
  churnRiskHalfway: Auc | null;
  clusterRate: Auc;
  knnRate: Auc | null;
  /** Logistic regression on log per-type counts + the readout's time facts, L2 by grouped CV. */
  fairBaseline: Auc & Calibration & { how: string; l2: number };
  /** Logistic regression on log per-type counts alone. */
  baseline: Auc & { how: string };
  /** Brier score of predicting the training (or evaluation) churn rate for everyone. */
  baseRateBrier: number;
  /** Alerts at the bundle's risk setting, then at each of `EvaluateOptions.moreRisks`. */
  alerts: AlertSet[];
  /** The readout's own out-of-fold figures from training, as the bundle stores them. */
  trainingOutOfFold: LoadedBundle['readoutOutOfFold'];
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

/** The time facts of the fair baseline, computed by the readout's own row builder from the same view. */
const FAIR_TIME_FEATURES = [QUIET_FEATURE, AGE_FEATURE, `${SUMMARY_PREFIX}quietUnits`, `${SUMMARY_PREFIX}ageUnits`, `${SUMMARY_PREFIX}activeRows`] as const;

/** Names of fairFeatures' columns. */
export function fairFeatureNames(spec: ImageSpec): string[] {
  return [...spec.eventTypes.map((t) => `count:${t}`), 'count:other', 'count:total', ...FAIR_TIME_FEATURES, 'log1p activeRows'];
}

/**
 * The fair baseline's row for one state of a session: countFeatures of the session's events,
 * then what the readout knows of time (readout-row.ts): log1p minutes quiet and old at asOf, the
 * same in the image's time unit, active rows and log1p of them.
 */
export function fairFeatures(s: TrainingSession, spec: ImageSpec, view: SessionView = s.final): number[] {
  const time = readoutRowBuilder(FAIR_TIME_FEATURES, spec)({ embedding: [], clusterChurnRate: 0, knnChurnRate: 0, image: view.rasterize(), timing: view });
  return [...countFeatures(s, spec.eventTypes), ...time, Math.log1p(time[4]!)];
}

function auc(labels: number[], scores: ArrayLike<number>): Auc {
  return { rocAuc: rocAuc(labels, scores), prAuc: averagePrecision(labels, scores) };
}

function calibration(labels: number[], p: ArrayLike<number>): Calibration {
  let brier = 0;
  labels.forEach((y, i) => (brier += (p[i]! - y) ** 2));
  return { brier: brier / Math.max(1, labels.length), reliability: reliabilityTable(labels, p).bins.filter((b) => b.count > 0) };
}

type Fit = (rows: TrainingSession[]) => { predict: (rows: TrainingSession[]) => Float64Array; l2: number };

/** Fits on the training sessions, or (none given) 5-fold cross-validation on the evaluation sessions. */
function baselineScores(evalRows: TrainingSession[], train: TrainingData | undefined, seed: number, fit: Fit): { scores: Float64Array; how: string; l2: number } {
  if (train) {
    const rows = train.sessions.filter((s) => !Number.isNaN(s.label));
    const m = fit(rows);
    return { scores: m.predict(evalRows), how: `trained on the ${rows.length} labelled training sessions`, l2: m.l2 };
  }
  const folds = 5;
  const order = seededPermutation(evalRows.length, seededRandom(seed));
  const scores = new Float64Array(evalRows.length);
  let l2 = Number.NaN;
  for (let f = 0; f < folds; f++) {
    const test = new Set<number>();
    for (let i = f; i < order.length; i += folds) test.add(order[i]!);
    const m = fit(evalRows.filter((_, i) => !test.has(i)));
    l2 = m.l2;
    const idx = [...test];
    const p = m.predict(idx.map((i) => evalRows[i]!));
    idx.forEach((i, j) => (scores[i] = p[j]!));
  }
  return { scores, how: '5-fold cross-validated on the evaluation sessions', l2 };
}

function alertRows(labels: number[], finals: ArrayLike<number>, maxima: ArrayLike<number>, thresholds: { medium: number; high: number }): AlertRow[] {
  const positives = labels.reduce((a, b) => a + b, 0);
  const base = positives / Math.max(1, labels.length);
  const rows: AlertRow[] = [];
  for (const band of ['high', 'medium'] as const) {
    for (const [on, scores] of [['max', maxima], ['final', finals]] as const) {
      let alerted = 0;
      let hits = 0;
      labels.forEach((y, i) => {
        if (scores[i]! < thresholds[band]) return;
        alerted++;
        hits += y;
      });
      const precision = alerted > 0 ? hits / alerted : Number.NaN;
      rows.push({ band, threshold: thresholds[band], on, alerted, share: alerted / Math.max(1, labels.length), precision, lift: precision / base, recall: positives > 0 ? hits / positives : Number.NaN });
    }
  }
  return rows;
}

export interface EvaluateOptions {
  /** The bundle's training data: baselines are fitted on it (else cross-validated on the evaluation sessions). */
  baselineTrain?: TrainingData;
  seed?: number;
  /** The risk setting the bundle was loaded with, for the table (its thresholds are the bundle's). */
  risk?: RiskSetting;
  /** More risk settings to report alerts at (resolved against the bundle's stored risk distribution). */
  moreRisks?: readonly RiskSetting[];
}

export async function evaluateBundle(bundle: LoadedBundle, data: TrainingData, options: EvaluateOptions = {}): Promise<EvalResult> {
  const seed = options.seed ?? 42;
  const scorer = bundle.scorer;
  const spec = data.spec.image;
  const finals = await scorer.scoreDetailed(data.sessions.map((s) => s.final));
  // Novel sessions are HDBSCAN's noise: count them as their own group, as training does.
  const ari = archetypeAri(data, (i) => (finals[i]!.assignment.novel ? -1 : finals[i]!.assignment.clusterId));
  const idx = data.sessions.map((_, i) => i).filter((i) => !Number.isNaN(data.sessions[i]!.label));
  const labels = idx.map((i) => data.sessions[i]!.label);
  const labelled = idx.map((i) => data.sessions[i]!);
  const risk = Float64Array.from(idx, (i) => finals[i]!.churnRisk);

  // Every prefix state too: the halfway row, and each session's highest risk for the alert shares.
  const prefixViews = labelled.flatMap((s) => s.prefixes);
  const prefixScores = prefixViews.length > 0 ? await scorer.scoreDetailed(prefixViews) : [];
  const maxRisk = Float64Array.from(risk);
  const halfway: { risk: number; label: number }[] = [];
  let k = 0;
  labelled.forEach((s, j) => {
    let best = -1;
    s.prefixes.forEach((p, q) => {
      const r = prefixScores[k + q]!.churnRisk;
      if (r > maxRisk[j]!) maxRisk[j] = r;
      if (best < 0 || Math.abs(p.eventCount - s.eventCount / 2) < Math.abs(s.prefixes[best]!.eventCount - s.eventCount / 2)) best = q;
    });
    if (best >= 0) halfway.push({ risk: prefixScores[k + best]!.churnRisk, label: s.label });
    k += s.prefixes.length;
  });

  const knn = idx.map((i) => finals[i]!.knnChurnRate);
  const counts = baselineScores(labelled, options.baselineTrain, seed, (rows) => {
    const m = fitLogistic(rows.map((s) => countFeatures(s, spec.eventTypes)), rows.map((s) => s.label), { seed });
    return { predict: (r) => predictLogisticBatch(m, r.map((s) => countFeatures(s, spec.eventTypes))), l2: m.l2 };
  });
  const fair = baselineScores(labelled, options.baselineTrain, seed, (rows) => {
    const x = rows.map((s) => fairFeatures(s, spec));
    const { model } = fitReadout(x, rows.map((s) => s.label), rows.map((_, i) => i), rows.map(() => true), { featureNames: fairFeatureNames(spec), seed, groupOf: () => 'summary' });
    return { predict: (r) => predictLogisticBatch(model, r.map((s) => fairFeatures(s, spec))), l2: model.l2 };
  });
  const trainLabels = options.baselineTrain ? options.baselineTrain.sessions.filter((s) => !Number.isNaN(s.label)).map((s) => s.label) : labels;
  const prior = trainLabels.reduce((a, b) => a + b, 0) / Math.max(1, trainLabels.length);
  return {
    modelVersion: bundle.modelVersion,
    sessions: data.sessions.length,
    labelled: idx.length,
    churnRate: labels.reduce((a, b) => a + b, 0) / Math.max(1, labels.length),
    churnRisk: { ...auc(labels, risk), ...calibration(labels, risk) },
    churnRiskHalfway: halfway.length > 0 ? auc(halfway.map((h) => h.label), halfway.map((h) => h.risk)) : null,
    clusterRate: auc(labels, idx.map((i) => finals[i]!.assignment.churnRate)),
    knnRate: knn.every((v) => v !== null) ? auc(labels, knn as number[]) : null,
    fairBaseline: { ...auc(labels, fair.scores), ...calibration(labels, fair.scores), how: fair.how, l2: fair.l2 },
    baseline: { ...auc(labels, counts.scores), how: counts.how },
    baseRateBrier: labels.reduce((a, y) => a + (prior - y) ** 2, 0) / Math.max(1, labels.length),
    alerts: [
      { setting: options.risk ? formatRiskSetting(options.risk) : `medium=${bundle.thresholds.medium},high=${bundle.thresholds.high}`, ...bundle.thresholds, rows: alertRows(labels, risk, maxRisk, bundle.thresholds) },
      ...(options.moreRisks ?? []).map((setting) => {
        const t = resolveRiskSetting(setting, bundle.readoutRiskQuantiles);
        return { setting: formatRiskSetting(setting), ...t, rows: alertRows(labels, risk, maxRisk, t) };
      }),
    ],
    trainingOutOfFold: bundle.readoutOutOfFold,
    ari,
    clustersFound: new Set(finals.map((f) => f.assignment.clusterId)).size,
    noveltyShare: finals.filter((f) => f.assignment.novel).length / Math.max(1, finals.length),
  };
}

const f3 = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const f4 = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(4));
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** A signed difference to 3 decimals; a difference that rounds to zero prints +0.000, never -0.000. */
export function formatSigned3(v: number): string {
  const s = v.toFixed(3);
  return Number(s) === 0 ? '+0.000' : v > 0 ? `+${s}` : s;
}

/** a − b as the 3-decimal table shows them (so a margin always equals the difference of the printed AUCs). */
export function shownMargin(a: number, b: number): number {
  return Number((Number(a.toFixed(3)) - Number(b.toFixed(3))).toFixed(3));
}

/** "0.05→0.00 (3), …": mean predicted → observed churn rate (sessions) per bin of 0.1. */
export function formatReliability(bins: readonly { meanPredicted: number; observedRate: number; count: number }[]): string {
  return bins.map((b) => `${b.meanPredicted.toFixed(2)}→${b.observedRate.toFixed(2)} (${b.count})`).join(', ');
}

/** One alert table: per band, on each session's highest state and on final states. */
export function formatAlerts(a: AlertSet): string[] {
  return [
    '',
    `Alerts at the risk setting "${a.setting}" (medium from ${f4(a.medium)}, high from ${f4(a.high)}); "highest state" is each session's highest risk over its scored states (prefixes and final), as a live session alerts when it first crosses:`,
    '',
    '| band reached | on | sessions | share | precision | lift over base rate | recall |',
    '|---|---|---|---|---|---|---|',
    ...a.rows.map((x) => `| ${x.band}${x.band === 'medium' ? ' or high' : ''} | ${x.on === 'max' ? 'highest state' : 'final state'} | ${x.alerted} | ${pct(x.share)} | ${f3(x.precision)} | ${Number.isNaN(x.lift) ? 'n/a' : x.lift.toFixed(2)} | ${f3(x.recall)} |`),
  ];
}

/** The quality table (markdown), with the `ROC AUC: 0.xxx` line for churnRisk. */
export function formatEvalTable(r: EvalResult, title: string): string {
  const margin = shownMargin(r.churnRisk.rocAuc, r.fairBaseline.rocAuc);
  const oof = r.trainingOutOfFold;
  const lines = [
    `### ${title}`,
    '',
    `ROC AUC: ${f3(r.churnRisk.rocAuc)}`,
    '',
    `model ${r.modelVersion}; ${r.sessions} sessions, ${r.labelled} labelled, churn rate ${pct(r.churnRate)}`,
    '',
    '| score | ROC AUC | PR AUC | Brier |',
    '|---|---|---|---|',
    `| churnRisk (bundle readout, final state) | **${f3(r.churnRisk.rocAuc)}** | ${f3(r.churnRisk.prAuc)} | ${f4(r.churnRisk.brier)} |`,
    ...(r.churnRiskHalfway ? [`| churnRisk at the 50 % prefix | ${f3(r.churnRiskHalfway.rocAuc)} | ${f3(r.churnRiskHalfway.prAuc)} | |`] : []),
    `| cluster churn rate alone | ${f3(r.clusterRate.rocAuc)} | ${f3(r.clusterRate.prAuc)} | |`,
    ...(r.knnRate ? [`| kNN churn rate alone | ${f3(r.knnRate.rocAuc)} | ${f3(r.knnRate.prAuc)} | |`] : []),
    `| fair baseline: logistic regression on log per-type counts + the readout's time facts (quiet, age, active rows), L2 ${r.fairBaseline.l2} by grouped CV (${r.fairBaseline.how}) | ${f3(r.fairBaseline.rocAuc)} | ${f3(r.fairBaseline.prAuc)} | ${f4(r.fairBaseline.brier)} |`,
    `| counts baseline: logistic regression on per-type counts (${r.baseline.how}) | ${f3(r.baseline.rocAuc)} | ${f3(r.baseline.prAuc)} | |`,
    `| base rate only (the training churn rate for everyone) | 0.500 | | ${f4(r.baseRateBrier)} |`,
    '',
    `churnRisk − fair baseline: ${formatSigned3(margin)} ROC AUC.`,
    '',
    `Reliability of churnRisk (bins of 0.1: mean predicted → observed churn rate (sessions)): ${formatReliability(r.churnRisk.reliability)}.`,
    `Reliability of the fair baseline: ${formatReliability(r.fairBaseline.reliability)}.`,
    ...(oof ? ['', `The readout on its own training sessions, out of fold (${oof.finals} sessions, churn rate ${pct(oof.churnRate)}): Brier ${f4(oof.brier)}; reliability ${formatReliability(oof.reliability)}.`] : []),
    ...r.alerts.flatMap(formatAlerts),
    '',
    `clusters used: ${r.clustersFound}; novel (beyond every radius): ${pct(r.noveltyShare)}` + (r.ari === null ? '' : `; ARI vs archetypes: ${f3(r.ari)}`),
    '',
  ];
  return lines.join('\n');
}
