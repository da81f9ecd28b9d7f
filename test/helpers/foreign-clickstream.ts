// A clickstream that looks like nobody's but its own (issue 17): other field names, integer ids,
// seconds or ISO timestamps, its own type names, no eventId, no labels. Four kinds of visit
// (browse, buy, search, complain) so a model trained on it has clusters to find; users come back
// after days or stop coming, so --churn-after has something to label. A session's own events are
// never more than `maxStepS` apart (below the 30-minute gap); with `pauses`, some sessions get a
// pause of 2–17 hours inside, which the gap must split into two sessions.
import { Rng } from '../../src/util/prng.ts';

export interface ForeignOptions {
  users: number;
  seed: number;
  /** Event time of the first session (ms). */
  start: number;
  time: 's' | 'iso';
  /** Sessions per user at most (each user stops after a random number). */
  maxSessionsPerUser?: number;
  /** Insert a pause of 2–17 h into this share of sessions (the id stays: the gap splits it). */
  pauses?: number;
}

export interface ForeignRecord {
  visit: number;
  shopper: number;
  when: number | string;
  action: string;
  aid: number;
}

/** The foreign names and what they would be in the default vocabulary. */
export const FOREIGN_TYPES = ['clicks', 'carts', 'orders', 'search_q', 'help_req', 'wish'] as const;

const KINDS: { weights: number[]; length: [number, number] }[] = [
  // browse: clicks, the odd wish
  { weights: [0.85, 0.03, 0, 0.05, 0, 0.07], length: [3, 12] },
  // buy: clicks, carts, an order
  { weights: [0.45, 0.35, 0.15, 0.05, 0, 0], length: [5, 14] },
  // search
  { weights: [0.3, 0.02, 0, 0.68, 0, 0], length: [4, 16] },
  // complain
  { weights: [0.25, 0, 0, 0.05, 0.7, 0], length: [2, 8] },
];

export interface ForeignSession {
  visit: number;
  shopper: number;
  /** Event times (ms) of its events, ascending. */
  times: number[];
}

/** Records in event-time order (across users), and the sessions as generated. */
export function foreignClickstream(o: ForeignOptions): { records: ForeignRecord[]; sessions: ForeignSession[] } {
  const rng = new Rng(o.seed);
  const out: { rec: ForeignRecord; t: number }[] = [];
  const sessions: ForeignSession[] = [];
  let visit = 1000;
  for (let u = 0; u < o.users; u++) {
    const shopper = 500_000 + u * 7;
    const kind = KINDS[u % KINDS.length]!;
    let t = o.start + rng.int(0, 3 * 86_400) * 1000;
    const count = rng.int(1, o.maxSessionsPerUser ?? 6);
    for (let s = 0; s < count; s++) {
      const id = visit++;
      const len = rng.int(kind.length[0], kind.length[1]);
      const pauseAt = o.pauses !== undefined && rng.chance(o.pauses) && len >= 4 ? rng.int(2, len - 2) : -1;
      const times: number[] = [];
      for (let i = 0; i < len; i++) {
        if (i === pauseAt) t += rng.int(2 * 3600, 17 * 3600) * 1000;
        else if (i > 0) t += rng.int(5, 600) * 1000;
        times.push(t);
        const action = FOREIGN_TYPES[rng.weighted(kind.weights)]!;
        const when = o.time === 's' ? t / 1000 : new Date(t).toISOString();
        out.push({ rec: { visit: id, shopper, when, action, aid: 1_000_000 + rng.int(0, 400) }, t });
      }
      sessions.push({ visit: id, shopper, times });
      // the next visit: hours to ~3 weeks later
      t += rng.int(6 * 3600, 21 * 86_400) * 1000;
    }
  }
  out.sort((a, b) => a.t - b.t || a.rec.visit - b.rec.visit);
  return { records: out.map((x) => x.rec), sessions };
}

/**
 * The offline reference sessionization: a session id's events, split wherever two consecutive
 * events are more than `gapMs` apart. Returns "visit@firstEventMs" → event count.
 */
export function referenceSessions(sessions: readonly ForeignSession[], gapMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sessions) {
    let start = s.times[0]!;
    let n = 0;
    for (let i = 0; i < s.times.length; i++) {
      if (i > 0 && s.times[i]! - s.times[i - 1]! > gapMs) {
        out.set(`${s.visit}@${start}`, n);
        start = s.times[i]!;
        n = 0;
      }
      n++;
    }
    out.set(`${s.visit}@${start}`, n);
  }
  return out;
}

/** The shape of docs/quickstart.md (as issue 17's public data set): session, user, page id, ms time, type. */
export interface QuickstartRecord {
  session: number;
  user: number;
  aid: number;
  ts: number;
  type: string;
}

/** The quickstart's own type names for the generator's kinds of event. */
export const QUICKSTART_TYPES: Record<(typeof FOREIGN_TYPES)[number], string> = { clicks: 'clicks', carts: 'carts', orders: 'orders', search_q: 'searches', help_req: 'help', wish: 'wishlist' };

/** A record generated with `time: 's'` in the quickstart's shape. */
export function quickstartRecord(r: ForeignRecord): QuickstartRecord {
  return { session: r.visit, user: r.shopper, aid: r.aid, ts: Number(r.when) * 1000, type: QUICKSTART_TYPES[r.action as (typeof FOREIGN_TYPES)[number]] };
}
