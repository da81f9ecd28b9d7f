// Readable cluster labels ("search → compare → leave, long dwell") from what distinguishes a
// cluster's sessions from all sessions: its most over-represented path (bigrams of event
// types, with the session end as a final "leave" step), else its most over-represented event
// type, followed by the summary statistics that deviate most from the global mean. The caller
// supplies per-session summaries, so this works for web sessions and KDD course days alike.
import { ErrorCodes, UserError } from '../errors.ts';

export interface SessionSummary {
  /** Count or share of each event type in the session. */
  types?: Readonly<Record<string, number>>;
  /** Event types in order (or the rolling window of them), for the typical path. */
  path?: readonly string[];
  /** Named numeric statistics, e.g. { dwellMs, events, gapMs }. */
  stats?: Readonly<Record<string, number>>;
}

export interface ClusterLabelOptions {
  /** Words for a low / high value of a statistic; default "low <name>" / "high <name>". */
  statWords?: Readonly<Record<string, readonly [low: string, high: string]>>;
  /** Display names for event types; default: underscores become spaces. */
  typeNames?: Readonly<Record<string, string>>;
  /** Word for the session end in a path. */
  endWord?: string;
  /** Most steps in a path (including the end). */
  maxPathSteps?: number;
  /** A path step needs this share of the cluster's sessions. */
  minSupport?: number;
  /** A path or type must be this many times more common in the cluster than overall. */
  minLift?: number;
  /** A statistic is mentioned when its cluster mean is this many global SDs from the mean. */
  minZ?: number;
  maxStats?: number;
  /** Label for noise (cluster -1). */
  noiseLabel?: string;
  /** Event types found in at least this share of all sessions are too common to name in a path. */
  commonTypeShare?: number;
}

export const clusterLabelDefaults: Required<ClusterLabelOptions> = {
  statWords: {},
  typeNames: {},
  endWord: 'leave',
  maxPathSteps: 4,
  minSupport: 0.2,
  minLift: 1.2,
  minZ: 0.5,
  maxStats: 2,
  noiseLabel: 'unclustered',
  commonTypeShare: 0.8,
};

const END = '\u0000end';

function sessionBigrams(path: readonly string[]): Set<string> {
  const out = new Set<string>();
  const steps = [...path, END];
  for (let i = 0; i + 1 < steps.length; i++) if (steps[i] !== steps[i + 1]) out.add(`${steps[i]}\u0001${steps[i + 1]}`);
  return out;
}

/** Share of sessions containing each bigram. */
function bigramSupport(paths: (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of paths) for (const b of sessionBigrams(p)) counts.set(b, (counts.get(b) ?? 0) + 1);
  for (const [k, v] of counts) counts.set(k, v / Math.max(1, paths.length));
  return counts;
}

function typeShares(summaries: readonly SessionSummary[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of summaries) {
    const total = Object.values(s.types ?? {}).reduce((a, b) => a + b, 0);
    if (total <= 0) continue;
    for (const [t, v] of Object.entries(s.types ?? {})) sums.set(t, (sums.get(t) ?? 0) + v / total);
  }
  for (const [k, v] of sums) sums.set(k, v / Math.max(1, summaries.length));
  return sums;
}

function statMoments(summaries: readonly SessionSummary[]): Map<string, { mean: number; sd: number; n: number }> {
  const acc = new Map<string, { s: number; s2: number; n: number }>();
  for (const x of summaries) {
    for (const [k, v] of Object.entries(x.stats ?? {})) {
      if (!Number.isFinite(v)) continue;
      const a = acc.get(k) ?? { s: 0, s2: 0, n: 0 };
      a.s += v;
      a.s2 += v * v;
      a.n++;
      acc.set(k, a);
    }
  }
  const out = new Map<string, { mean: number; sd: number; n: number }>();
  for (const [k, a] of acc) {
    const mean = a.s / a.n;
    out.set(k, { mean, sd: Math.sqrt(Math.max(0, a.s2 / a.n - mean * mean)), n: a.n });
  }
  return out;
}

/**
 * One label per cluster id present in `clusters` (one id per summary; -1 = noise).
 * Labels are unique: a clash gets the cluster id appended.
 */
export function labelClusters(
  summaries: readonly SessionSummary[],
  clusters: ArrayLike<number>,
  options: ClusterLabelOptions = {},
): Map<number, string> {
  const o = { ...clusterLabelDefaults, ...options };
  if (summaries.length !== clusters.length) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `labelClusters: ${summaries.length} summaries but ${clusters.length} cluster ids; give one id per summary`);
  }
  const typeName = (t: string) => (t === END ? o.endWord : (o.typeNames[t] ?? t.replaceAll('_', ' ')));
  const globalPaths = summaries.map((s) => s.path ?? []);
  const globalBigrams = bigramSupport(globalPaths.filter((p) => p.length > 0));
  const globalTypes = typeShares(summaries);
  const globalStats = statMoments(summaries);
  const withPath = globalPaths.filter((p) => p.length > 0);
  const presence = new Map<string, number>();
  for (const p of withPath) for (const t of new Set(p)) presence.set(t, (presence.get(t) ?? 0) + 1);
  const common = new Set([...presence].filter(([, c]) => c >= o.commonTypeShare * withPath.length).map(([t]) => t));

  const members = new Map<number, number[]>();
  for (let i = 0; i < clusters.length; i++) {
    const list = members.get(clusters[i]!) ?? [];
    list.push(i);
    members.set(clusters[i]!, list);
  }
  const labels = new Map<number, string>();
  const used = new Map<string, number>();
  for (const id of [...members.keys()].sort((a, b) => a - b)) {
    if (id < 0) {
      labels.set(id, o.noiseLabel);
      continue;
    }
    const mine = members.get(id)!.map((i) => summaries[i]!);
    const parts: string[] = [];
    const path = typicalPath(mine, globalBigrams, common, o);
    if (path.length > 0) {
      parts.push(path.map(typeName).join(' → '));
    } else {
      const shares = typeShares(mine);
      let best: string | undefined;
      let bestScore = 0;
      for (const [t, share] of shares) {
        const lift = share / Math.max(globalTypes.get(t) ?? 0, 1e-9);
        if (share < 0.1 || lift < o.minLift) continue;
        const score = share * Math.log(lift);
        if (score > bestScore) {
          bestScore = score;
          best = t;
        }
      }
      if (best !== undefined) parts.push(`mostly ${typeName(best)}`);
    }
    const local = statMoments(mine);
    const deviations = [...local]
      .map(([k, m]) => {
        const g = globalStats.get(k)!;
        return { k, z: g.sd > 0 ? (m.mean - g.mean) / g.sd : 0 };
      })
      .filter((d) => Math.abs(d.z) >= o.minZ)
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
      .slice(0, o.maxStats);
    for (const d of deviations) {
      const words = o.statWords[d.k] ?? [`low ${d.k}`, `high ${d.k}`];
      parts.push(d.z < 0 ? words[0] : words[1]);
    }
    let label = parts.length > 0 ? parts.join(', ') : `cluster ${id}`;
    if (used.has(label)) label = `${label} (#${id})`;
    used.set(label, id);
    labels.set(id, label);
  }
  return labels;
}

function typicalPath(
  mine: readonly SessionSummary[],
  globalBigrams: Map<string, number>,
  common: Set<string>,
  o: typeof clusterLabelDefaults,
): string[] {
  const paths = mine.map((s) => s.path ?? []).filter((p) => p.length > 0);
  if (paths.length === 0) return [];
  const support = bigramSupport(paths);
  const lift = (b: string) => (support.get(b) ?? 0) / Math.max(globalBigrams.get(b) ?? 0, 1e-9);
  // Seed with the bigram that is both common here and over-represented relative to everyone.
  let seed: string | undefined;
  let seedScore = 0;
  for (const [b, s] of support) {
    if (s < o.minSupport || lift(b) < o.minLift) continue;
    if (b.split('\u0001').some((t) => common.has(t))) continue;
    const score = s * Math.log(lift(b));
    if (score > seedScore) {
      seedScore = score;
      seed = b;
    }
  }
  if (seed === undefined) return [];
  const steps = seed.split('\u0001');
  // Extend backwards and forwards with the cluster's most common continuation.
  const extend = (forward: boolean) => {
    while (steps.length < o.maxPathSteps) {
      const edge = forward ? steps[steps.length - 1]! : steps[0]!;
      if (forward && edge === END) return;
      let best: string | undefined;
      let bestSupport = o.minSupport;
      for (const [b, s] of support) {
        const [from, to] = b.split('\u0001') as [string, string];
        const candidate = forward ? (from === edge ? to : undefined) : to === edge ? from : undefined;
        if (candidate === undefined || common.has(candidate) || steps.includes(candidate) || s < bestSupport) continue;
        best = candidate;
        bestSupport = s;
      }
      if (best === undefined) return;
      if (forward) steps.push(best);
      else steps.unshift(best);
    }
  };
  extend(true);
  extend(false);
  return steps;
}
