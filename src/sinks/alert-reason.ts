// The one-line "why" carried by a ChurnAlert, for the person reading it in a CRM: which recent
// journey steps stand out, how long the session has been quiet (when it has), which cluster the
// journey resembles, and the risk.
//   "3× support_contact after checkout; cluster 'frustrated support-seeker' (churn 0.62)"
//   "quiet for 4 days after 2× problem after video; cluster 'video then problems' (churn 0.81)"

export interface AlertReasonInput {
  /** Event types of the session's most recent steps, oldest first. */
  steps: readonly string[];
  clusterLabel: string;
  churnRisk: number;
  /** How long the session had been quiet when scored (ms); named when it is at least a minute. */
  quietMs?: number;
  /** The session has closed (its final signal): said instead of the quiet spell, which is then just the gap. */
  ended?: boolean;
}

export interface AlertReasonOptions {
  /** How many of the most recent steps are looked at. */
  lookback: number;
  /**
   * Step types that say little on their own (a page view happens in every journey); they are
   * named only when nothing else happened in the lookback.
   */
  filler: readonly string[];
  /** Longer reasons are cut with an ellipsis (a CRM field, not a report). */
  maxLength: number;
}

export const alertReasonDefaults = {
  lookback: 8,
  filler: ['page_view'],
  maxLength: 200,
} satisfies AlertReasonOptions;

export function buildAlertReason(input: AlertReasonInput, options: Partial<AlertReasonOptions> = {}): string {
  const opts = { ...alertReasonDefaults, ...options };
  const parts: string[] = [];
  const steps = describeSteps(input.steps.slice(-Math.max(1, opts.lookback)), new Set(opts.filler));
  const quiet = input.ended ? 'ended' : (input.quietMs ?? 0) >= 60_000 ? `quiet for ${formatQuiet(input.quietMs!)}` : undefined;
  if (quiet) parts.push(steps ? `${quiet} after ${steps}` : quiet);
  else if (steps) parts.push(steps);
  const label = oneLine(input.clusterLabel);
  const risk = Number.isFinite(input.churnRisk) ? input.churnRisk.toFixed(2) : '?';
  parts.push(label ? `cluster '${label}' (churn ${risk})` : `no cluster (churn ${risk})`);
  const text = parts.join('; ');
  return text.length <= opts.maxLength ? text : `${text.slice(0, Math.max(0, opts.maxLength - 1))}…`;
}

/**
 * The most frequent non-filler step of the tail (ties go to the most recent), with the distinct
 * step that came just before its first occurrence: "3× support_contact after checkout".
 */
function describeSteps(tail: readonly string[], filler: ReadonlySet<string>): string | undefined {
  if (tail.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const t of tail) counts.set(t, (counts.get(t) ?? 0) + 1);
  let dominant: string | undefined;
  let best = 0;
  let dominantIsFiller = true;
  // Walking from the newest step makes ties resolve to the most recent type.
  for (let i = tail.length - 1; i >= 0; i--) {
    const t = tail[i] as string;
    const c = counts.get(t) as number;
    const isFiller = filler.has(t);
    const better = dominant === undefined || (dominantIsFiller && !isFiller) || (isFiller === dominantIsFiller && c > best);
    if (better) {
      dominant = t;
      best = c;
      dominantIsFiller = isFiller;
    }
  }
  const name = oneLine(dominant as string);
  const first = tail.indexOf(dominant as string);
  let before: string | undefined;
  for (let i = first - 1; i >= 0; i--) {
    const t = tail[i] as string;
    if (t !== dominant && !filler.has(t)) {
      before = t;
      break;
    }
  }
  const head = best > 1 ? `${best}× ${name}` : name;
  return before === undefined ? head : `${head} after ${oneLine(before)}`;
}

/** "45 min", "5 h", "3 days": the largest unit that fits, rounded down. */
export function formatQuiet(ms: number): string {
  const day = 86_400_000;
  if (ms >= 2 * day) return `${Math.floor(ms / day)} days`;
  if (ms >= day) return '1 day';
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)} h`;
  return `${Math.floor(ms / 60_000)} min`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
