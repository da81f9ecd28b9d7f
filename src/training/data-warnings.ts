// What `journeylens train` says about its data before and after training: where the events and
// labels came from, the vocabulary, and warnings with numbers when the data is too small to
// trust (too few sessions, labels or churners; clusters with too few sessions to give a churn
// rate). The thresholds are rules of thumb, stated in each warning so a user can judge.
import { type BundleCluster } from '../contracts/bundle-format.ts';
import { describeDead, summarizeCounts } from '../history/history-source.ts';
import { type TrainingData } from './training-data.ts';

export const dataWarningDefaults = {
  /** Fewer sessions than this: clusters and churn rates are unstable. */
  minSessions: 1_000,
  /** Fewer labelled sessions, or churned ones, than this: the churn readout has little to learn from. */
  minLabelled: 200,
  minChurned: 30,
  /** A cluster smaller than this gives no usable churn rate. */
  minClusterSessions: 30,
  minClusterLabelled: 10,
} as const;

const pct = (n: number, d: number): string => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
const day = 86_400_000;
const duration = (ms: number): string => (ms % day === 0 ? `${ms / day}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`);

/** Lines about the data read: records, vocabulary, labels. */
export function describeTrainingData(data: TrainingData): string[] {
  const out = [`read ${summarizeCounts(data.input)}; ${data.sessions.length} sessions`];
  const v = data.vocabulary;
  if (v !== undefined) {
    out.push(
      v.learned
        ? `event types learned from the data (spec.json names none): ${v.eventTypes.join(', ')}; ${pct(v.otherShare, 1)} of events fall in "other"; ${v.pageBuckets} page-category columns`
        : `event types: the default vocabulary, which covers the data (${pct(v.otherShare, 1)} of events in "other")`,
    );
  }
  const l = data.labels;
  if (l.source === 'file') out.push(`labels from ${l.path}: ${pct(data.labelRate, 1)} of sessions labelled`);
  else if (l.source === 'churnAfter') {
    out.push(
      `labels from the history (--churn-after ${duration(l.churnAfterMs)}): ${l.churned} sessions churned, ${l.retained} retained; ` +
        `${l.tooRecent} sessions of the last ${duration(l.churnAfterMs)} before ${new Date(l.historyEnd).toISOString()} are too recent to tell (${l.tooRecentUsers} users with no older session) and left unlabelled` +
        (l.noUser > 0 ? `; ${l.noUser} sessions without a userId left unlabelled` : ''),
    );
  } else out.push('no labels (--labels or --churn-after): the bundle will have clusters but no churn readout');
  return out;
}

/** Warnings about the data before training. */
export function dataWarnings(data: TrainingData): string[] {
  const w = dataWarningDefaults;
  const out: string[] = [];
  const n = data.sessions.length;
  if (data.input.dead > 0) out.push(`${data.input.dead} of ${data.input.records} records could not be used and were left out: ${describeDead(data.input).join('; ')}`);
  if (n < w.minSessions) out.push(`only ${n} sessions: clusters and churn rates learned from fewer than ${w.minSessions} sessions are unstable; train on a longer history`);
  const labelled = data.sessions.filter((s) => !Number.isNaN(s.label));
  const churned = labelled.filter((s) => s.label === 1).length;
  if (data.labels.source !== 'none') {
    if (labelled.length < w.minLabelled) out.push(`only ${labelled.length} labelled sessions (fewer than ${w.minLabelled}): the churn readout has little to learn from`);
    else if (churned < w.minChurned || labelled.length - churned < w.minChurned) out.push(`${churned} churned and ${labelled.length - churned} retained sessions: fewer than ${w.minChurned} of one kind, so churn risks will be rough`);
  }
  if (data.labels.source === 'churnAfter' && data.labels.noUser > n / 2) {
    out.push(`${data.labels.noUser} of ${n} sessions have no userId: --churn-after follows users across sessions; map a user field (ingestion.mapping.userId)`);
  }
  return out;
}

/** Warnings about the clusters after training: too small for a churn rate. */
export function clusterWarnings(clusters: readonly BundleCluster[], labelRate: number): string[] {
  const w = dataWarningDefaults;
  const small = clusters.filter((c) => c.size < w.minClusterSessions || (labelRate > 0 && c.labelled < w.minClusterLabelled));
  if (small.length === 0) return [];
  return [
    `${small.length} of ${clusters.length} clusters are too small to trust their churn rate (fewer than ${w.minClusterSessions} sessions or ${w.minClusterLabelled} labelled): ` +
      small.map((c) => `cluster ${c.id} ${c.size} sessions, ${c.labelled} labelled`).join('; '),
  ];
}
