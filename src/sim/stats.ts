// Summary of a simulated dataset: what `journeylens simulate` prints and tests check.
import { type Archetype, ARCHETYPES } from './archetypes.ts';
import { type SimItem, type SimUser } from './generator.ts';

/** Log-spaced histogram: percentiles within 1% without keeping every value. */
class LogHistogram {
  private static readonly STEP = 0.01;
  private readonly bins = new Map<number, number>();
  count = 0;

  add(x: number): void {
    const bin = Math.floor(Math.log1p(Math.max(0, x)) / LogHistogram.STEP);
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + 1);
    this.count++;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const bin of [...this.bins.keys()].sort((a, b) => a - b)) {
      seen += this.bins.get(bin)!;
      if (seen >= rank) return Math.round(Math.expm1((bin + 0.5) * LogHistogram.STEP));
    }
    return 0;
  }
}

export interface SimulationSummary {
  users: number;
  sessions: number;
  events: number;
  /** Sessions that are a user's first / a later one. */
  newSessions: number;
  returningSessions: number;
  firstEventAt: string | null;
  lastEventAt: string | null;
  /** Sessions per ground-truth archetype. */
  archetypeSessions: Record<Archetype, number>;
  /** Share of users who churned, overall and per primary archetype. */
  churnRate: number;
  churnRateByArchetype: Record<Archetype, { users: number; churnRate: number }>;
  eventsPerSession: { mean: number; p50: number; p90: number; max: number };
  dwellMs: { p10: number; p50: number; p90: number; p99: number };
  eventTypes: Record<string, number>;
  /** Share of sessions with at least one purchase, and the summed purchase value. */
  conversionRate: number;
  revenue: number;
}

/** Feed every generated item to `add`, then call `summary` with the simulation's users. */
export class SimulationStats {
  private events = 0;
  private newSessions = 0;
  private returningSessions = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly archetypeSessions = Object.fromEntries(ARCHETYPES.map((a) => [a, 0])) as Record<Archetype, number>;
  private readonly perSession = new Map<string, number>();
  private readonly dwell = new LogHistogram();
  private readonly types = new Map<string, number>();
  private readonly converted = new Set<string>();
  private revenue = 0;

  add(item: SimItem): void {
    const e = item.event;
    this.events++;
    this.first ??= e.timestamp;
    this.last = e.timestamp;
    if (item.step === 0) {
      this.archetypeSessions[item.archetype]++;
      if (item.returning) this.returningSessions++;
      else this.newSessions++;
    }
    this.perSession.set(e.sessionId, (this.perSession.get(e.sessionId) ?? 0) + 1);
    if (e.durationMs !== null) this.dwell.add(e.durationMs);
    this.types.set(e.type, (this.types.get(e.type) ?? 0) + 1);
    if (e.type === 'purchase') {
      this.converted.add(e.sessionId);
      this.revenue += e.value ?? 0;
    }
  }

  summary(users: readonly SimUser[]): SimulationSummary {
    const lengths = [...this.perSession.values()].sort((a, b) => a - b);
    const at = (q: number): number => lengths[Math.min(lengths.length - 1, Math.floor(q * lengths.length))] ?? 0;
    const byArchetype = Object.fromEntries(ARCHETYPES.map((a) => [a, { users: 0, churned: 0 }])) as Record<Archetype, { users: number; churned: number }>;
    for (const u of users) {
      byArchetype[u.archetype].users++;
      if (u.churned) byArchetype[u.archetype].churned++;
    }
    const churned = users.filter((u) => u.churned).length;
    return {
      users: users.length,
      sessions: lengths.length,
      events: this.events,
      newSessions: this.newSessions,
      returningSessions: this.returningSessions,
      firstEventAt: this.first === null ? null : new Date(this.first).toISOString(),
      lastEventAt: this.last === null ? null : new Date(this.last).toISOString(),
      archetypeSessions: { ...this.archetypeSessions },
      churnRate: users.length ? churned / users.length : 0,
      churnRateByArchetype: Object.fromEntries(
        ARCHETYPES.map((a) => [a, { users: byArchetype[a].users, churnRate: byArchetype[a].users ? byArchetype[a].churned / byArchetype[a].users : 0 }]),
      ) as Record<Archetype, { users: number; churnRate: number }>,
      eventsPerSession: {
        mean: lengths.length ? this.events / lengths.length : 0,
        p50: at(0.5),
        p90: at(0.9),
        max: lengths[lengths.length - 1] ?? 0,
      },
      dwellMs: { p10: this.dwell.percentile(10), p50: this.dwell.percentile(50), p90: this.dwell.percentile(90), p99: this.dwell.percentile(99) },
      eventTypes: Object.fromEntries([...this.types.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
      conversionRate: lengths.length ? this.converted.size / lengths.length : 0,
      revenue: Math.round(this.revenue * 100) / 100,
    };
  }
}

/** Human-readable summary for the terminal. */
export function formatSummary(s: SimulationSummary): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${s.events} events, ${s.sessions} sessions (${s.newSessions} new, ${s.returningSessions} returning), ${s.users} users`,
    `event time ${s.firstEventAt ?? '-'} .. ${s.lastEventAt ?? '-'}`,
    `churn rate ${pct(s.churnRate)} of users`,
    'archetype                  sessions   share   users  churn',
  ];
  for (const a of ARCHETYPES) {
    const c = s.churnRateByArchetype[a];
    lines.push(
      `  ${a.padEnd(26)}${String(s.archetypeSessions[a]).padStart(7)}  ${pct(s.sessions ? s.archetypeSessions[a] / s.sessions : 0).padStart(6)}  ${String(c.users).padStart(6)}  ${pct(c.churnRate).padStart(6)}`,
    );
  }
  const e = s.eventsPerSession;
  lines.push(`events per session: mean ${e.mean.toFixed(1)}, p50 ${e.p50}, p90 ${e.p90}, max ${e.max}`);
  const d = s.dwellMs;
  lines.push(`dwell time (ms): p10 ${d.p10}, p50 ${d.p50}, p90 ${d.p90}, p99 ${d.p99}`);
  lines.push(`conversion: ${pct(s.conversionRate)} of sessions end in a purchase; revenue ${s.revenue.toFixed(2)}`);
  lines.push(`event types: ${Object.entries(s.eventTypes).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
