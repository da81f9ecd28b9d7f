// Per-session summaries for labelClusters, computed from the same ClickEvents the image is
// rasterized from, so labels describe what the encoder saw.
import { type ClickEvent } from '../contracts/records.ts';
import { type SessionSummary } from './cluster-labels.ts';

/** Event-type counts, the ordered path (consecutive repeats collapsed) and basic stats. */
export function summariseSession(events: readonly ClickEvent[]): SessionSummary {
  const ordered = [...events].sort((a, b) => a.timestamp - b.timestamp);
  const types: Record<string, number> = {};
  const path: string[] = [];
  let dwellSum = 0;
  let dwellCount = 0;
  let value = 0;
  for (const e of ordered) {
    types[e.type] = (types[e.type] ?? 0) + 1;
    if (path[path.length - 1] !== e.type) path.push(e.type);
    if (e.durationMs !== null && e.durationMs >= 0) {
      dwellSum += e.durationMs;
      dwellCount++;
    }
    if (e.value !== null && e.value > 0) value += e.value;
  }
  const first = ordered[0]?.timestamp ?? 0;
  const last = ordered[ordered.length - 1]?.timestamp ?? 0;
  const stats: Record<string, number> = { events: ordered.length, durationMs: last - first, value };
  if (dwellCount > 0) stats.dwellMs = dwellSum / dwellCount;
  return { types, path, stats };
}

/** Words for the stats summariseSession produces, for labelClusters' `statWords`. */
export const sessionStatWords = {
  events: ['few events', 'many events'],
  durationMs: ['short session', 'long session'],
  value: ['low value', 'high value'],
  dwellMs: ['short dwell', 'long dwell'],
} as const satisfies Record<string, readonly [string, string]>;
