// The simulator: users arrive following a daily rhythm, each with a planned series of
// sessions whose archetypes are mostly their own primary one; events of all sessions are
// merged into one stream ordered by event time, without holding more than the open
// sessions in memory.
import { type ClickEvent } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type Archetype, ARCHETYPE_MODELS, ARCHETYPES, DEFAULT_ARCHETYPE_MIX, HOURLY_TRAFFIC } from './archetypes.ts';
import { TimeHeap } from './heap.ts';
import { fnv1a32 } from '../util/hash.ts';
import { Rng } from '../util/prng.ts';
import { simulateSession } from './session.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Users' sessions never start closer than this, so one user's sessions never overlap. */
const MIN_SESSION_SPACING_MS = 2 * HOUR;

export interface SimulationOptions {
  /** PRNG seed; the same seed and options give the same events. Default 1. */
  seed?: number;
  /** Total sessions. Omit for an endless stream (e.g. live Kafka traffic). */
  sessions?: number;
  /** Users sharing those sessions (≤ sessions). Default ceil(sessions / 3). */
  users?: number;
  /** Event time of the simulation start (ms). Default 2026-01-05T00:00:00Z. */
  start?: number;
  /** First visits spread over this many days (finite mode). Default 7. */
  days?: number;
  /** New users per hour at peak traffic, endless mode only. Default 300. */
  usersPerHour?: number;
  /** Share of users per primary archetype; missing ones get 0. Default DEFAULT_ARCHETYPE_MIX. */
  mix?: Partial<Record<Archetype, number>>;
  /** Probability that a session follows the user's primary archetype. Default 0.85. */
  stability?: number;
}

export interface SimUser {
  userId: string;
  archetype: Archetype;
  /** Archetype of each of the user's sessions, in order. */
  sessionArchetypes: Archetype[];
  /** The ground-truth churn outcome. */
  churned: boolean;
  /** First session start (ms). */
  firstVisit: number;
}

export interface SimItem {
  event: ClickEvent;
  /** Ground-truth archetype of the event's session. */
  archetype: Archetype;
  /** Index of the event within its session (0 = session start). */
  step: number;
  /** True on the session's last event. */
  last: boolean;
  /** False on the user's first session. */
  returning: boolean;
  /** The user's churn outcome. */
  churned: boolean;
}

export const DEFAULT_SIMULATION_START = Date.UTC(2026, 0, 5);

interface PlannedUser {
  user: SimUser;
  device: string;
  /** Session start times, ascending. */
  times: number[];
}

interface PlannedSession {
  planned: PlannedUser;
  ordinal: number;
}

/** Validated options with defaults; the messages name the option and the fix. */
export function resolveSimulationOptions(o: SimulationOptions): Required<Omit<SimulationOptions, 'sessions' | 'users'>> & {
  sessions: number | undefined;
  users: number | undefined;
  mix: Record<Archetype, number>;
} {
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) bad(`seed must be an integer from 0 to ${0xffffffff}, got ${seed}`);
  const sessions = o.sessions;
  if (sessions !== undefined && (!Number.isInteger(sessions) || sessions < 1)) bad(`sessions must be a positive integer, got ${sessions}`);
  let users = o.users;
  if (users !== undefined) {
    if (!Number.isInteger(users) || users < 1) bad(`users must be a positive integer, got ${users}`);
    if (sessions === undefined) bad('users needs sessions: with an endless stream users keep arriving at usersPerHour');
    if (users > sessions) bad(`users (${users}) must not exceed sessions (${sessions}): every user has at least one session`);
  } else if (sessions !== undefined) {
    users = Math.ceil(sessions / 3);
  }
  const start = o.start ?? DEFAULT_SIMULATION_START;
  if (!Number.isFinite(start)) bad(`start must be a time in ms, got ${start}`);
  const days = o.days ?? 7;
  if (!(days > 0)) bad(`days must be positive, got ${days}`);
  const usersPerHour = o.usersPerHour ?? 300;
  if (!(usersPerHour > 0)) bad(`usersPerHour must be positive, got ${usersPerHour}`);
  const stability = o.stability ?? 0.85;
  if (!(stability >= 0 && stability <= 1)) bad(`stability must be from 0 to 1, got ${stability}`);
  const mix = {} as Record<Archetype, number>;
  for (const a of ARCHETYPES) {
    const w = o.mix ? (o.mix[a] ?? 0) : DEFAULT_ARCHETYPE_MIX[a];
    if (!(w >= 0)) bad(`mix.${a} must be a non-negative weight, got ${w}`);
    mix[a] = w;
  }
  if (ARCHETYPES.every((a) => mix[a] === 0)) bad('mix must give at least one archetype a positive weight');
  return { seed, sessions, users, start, days, usersPerHour, stability, mix };
}

function bad(message: string): never {
  throw new UserError(ErrorCodes.CONFIG_INVALID, `simulation option ${message}.`, { exitCode: 2 });
}

/**
 * A simulation run. `users` lists every user created so far (all of them up front for a
 * finite run; growing as they arrive for an endless one). `events()` can be iterated more
 * than once and yields the same sequence each time.
 */
export class Simulation {
  readonly options: ReturnType<typeof resolveSimulationOptions>;
  private plannedUsers: PlannedUser[] | undefined;
  private endlessUsers: SimUser[] = [];
  private arrivalsPerHour: number;

  constructor(options: SimulationOptions = {}) {
    this.options = resolveSimulationOptions(options);
    this.arrivalsPerHour = this.options.usersPerHour;
    if (this.options.sessions !== undefined) this.plannedUsers = this.planFinite();
  }

  /** New users per peak hour (endless mode); changes apply to arrivals not yet generated. */
  get usersPerHour(): number {
    return this.arrivalsPerHour;
  }

  set usersPerHour(value: number) {
    if (!(value > 0)) bad(`usersPerHour must be positive, got ${value}`);
    this.arrivalsPerHour = value;
  }

  get users(): readonly SimUser[] {
    return this.plannedUsers ? this.plannedUsers.map((p) => p.user) : this.endlessUsers;
  }

  *events(): Generator<SimItem> {
    const o = this.options;
    const seedTag = `s${o.seed}`;
    const source = this.plannedUsers ? this.plannedUsers[Symbol.iterator]() : this.endlessArrivals();
    let nextUser = source.next();
    const sessionHeap = new TimeHeap<PlannedSession>();
    const eventHeap = new TimeHeap<SimItem>();
    let sessionCount = 0;
    for (;;) {
      const tu = nextUser.done ? Infinity : nextUser.value.times[0]!;
      const ts = sessionHeap.peekTime();
      const te = eventHeap.peekTime();
      if (te === Infinity && ts === Infinity && tu === Infinity) return;
      // Emit events first on ties: a session starting at t cannot produce events before t.
      if (te <= ts && te <= tu) {
        yield eventHeap.pop()!;
      } else if (ts <= tu) {
        const s = sessionHeap.pop()!;
        const { planned, ordinal } = s;
        const sessionId = `${seedTag}-${sessionCount++}`;
        const archetype = planned.user.sessionArchetypes[ordinal]!;
        const rng = new Rng(fnv1a32(sessionId, o.seed));
        const events = simulateSession(rng, archetype, {
          sessionId,
          userId: planned.user.userId,
          start: planned.times[ordinal]!,
          ordinal,
          device: planned.device,
        });
        events.forEach((event, step) => {
          eventHeap.push(event.timestamp, { event, archetype, step, last: step === events.length - 1, returning: ordinal > 0, churned: planned.user.churned });
        });
      } else {
        const planned = nextUser.value as PlannedUser;
        planned.times.forEach((t, ordinal) => sessionHeap.push(t, { planned, ordinal }));
        nextUser = source.next();
      }
    }
  }

  private planFinite(): PlannedUser[] {
    const o = this.options;
    const nUsers = o.users!;
    const nSessions = o.sessions!;
    const rng = new Rng(fnv1a32('plan', o.seed));
    const drafts = Array.from({ length: nUsers }, () => this.draftUser(rng));
    // Every user has one session; the rest go to users in proportion to their archetype's
    // loyalty times a personal factor, so session counts are skewed like real ones.
    const counts = drafts.map(() => 1);
    const cumulative: number[] = [];
    let total = 0;
    for (const d of drafts) {
      total += ARCHETYPE_MODELS[d.archetype].loyalty * rng.logNormal(1, 0.6);
      cumulative.push(total);
    }
    for (let extra = nSessions - nUsers; extra > 0; extra--) {
      const r = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      counts[lo]!++;
    }
    const planned = drafts.map((d, i) => {
      const first = sampleRhythmTime(rng, o.start, o.days * DAY);
      return this.completeUser(rng, d, counts[i]!, first);
    });
    // Ids follow first-visit order, so the files read naturally.
    planned.sort((a, b) => a.times[0]! - b.times[0]!);
    planned.forEach((p, i) => {
      p.user.userId = `u${o.seed}-${i}`;
    });
    return planned;
  }

  private *endlessArrivals(): Generator<PlannedUser> {
    const o = this.options;
    const rng = new Rng(fnv1a32('arrivals', o.seed));
    const peak = Math.max(...HOURLY_TRAFFIC);
    let t = o.start;
    for (let i = 0; ; i++) {
      // Thinning of a Poisson process at the peak rate gives the daily rhythm.
      do t += rng.exponential(HOUR / this.arrivalsPerHour);
      while (!rng.chance(rhythmAt(t) / peak));
      const d = this.draftUser(rng);
      const sessions = 1 + Math.floor(rng.exponential(Math.max(0.1, ARCHETYPE_MODELS[d.archetype].loyalty - 0.5)));
      const p = this.completeUser(rng, d, sessions, Math.round(t));
      p.user.userId = `u${o.seed}-${i}`;
      this.endlessUsers.push(p.user);
      yield p;
    }
  }

  private draftUser(rng: Rng): { archetype: Archetype; secondary: Archetype; device: string } {
    const mix = this.options.mix;
    const weights = ARCHETYPES.map((a) => mix[a]);
    const archetype = ARCHETYPES[rng.weighted(weights)]!;
    // A user's off-type sessions come from one other archetype: people are consistent.
    const secondary = ARCHETYPES[rng.weighted(ARCHETYPES.map((a) => (a === archetype ? 0 : 1)))]!;
    const device = rng.chance(0.6) ? 'mobile' : 'desktop';
    return { archetype, secondary, device };
  }

  private completeUser(rng: Rng, d: { archetype: Archetype; secondary: Archetype; device: string }, sessions: number, first: number): PlannedUser {
    const sessionArchetypes: Archetype[] = [];
    for (let k = 0; k < sessions; k++) sessionArchetypes.push(rng.chance(this.options.stability) ? d.archetype : d.secondary);
    // Churn follows the archetype mix of the user's sessions, with some personal noise.
    const p = sessionArchetypes.reduce((s, a) => s + ARCHETYPE_MODELS[a].churnProbability, 0) / sessions;
    const logit = Math.log(p / (1 - p)) + 0.4 * rng.normal();
    const churned = rng.chance(1 / (1 + Math.exp(-logit)));
    const times = [first];
    // Heavy users come back more often, so one user's visits stay within a few simulated weeks.
    const gap = Math.min(ARCHETYPE_MODELS[d.archetype].returnGapMs, (2 * this.options.days * DAY) / sessions);
    for (let k = 1; k < sessions; k++) {
      const prev = times[k - 1]!;
      let t = prev + MIN_SESSION_SPACING_MS + rng.exponential(gap);
      for (let tries = 0; tries < 20 && !rng.chance(rhythmAt(t) / Math.max(...HOURLY_TRAFFIC)); tries++) {
        t = prev + MIN_SESSION_SPACING_MS + rng.exponential(gap);
      }
      times.push(Math.round(t));
    }
    return {
      user: { userId: '', archetype: d.archetype, sessionArchetypes, churned, firstVisit: first },
      device: d.device,
      times,
    };
  }
}

/** Relative traffic (0..1 of the daily peak) at time t, from HOURLY_TRAFFIC. */
export function trafficAt(t: number): number {
  return rhythmAt(t) / Math.max(...HOURLY_TRAFFIC);
}

function rhythmAt(t: number): number {
  const hour = Math.floor((((t % DAY) + DAY) % DAY) / HOUR);
  return HOURLY_TRAFFIC[hour] ?? 1;
}

/** A time in [start, start + span) with density following the daily rhythm. */
function sampleRhythmTime(rng: Rng, start: number, span: number): number {
  const peak = Math.max(...HOURLY_TRAFFIC);
  for (;;) {
    const t = start + rng.next() * span;
    if (rng.chance(rhythmAt(t) / peak)) return Math.round(t);
  }
}

export function createSimulation(options: SimulationOptions = {}): Simulation {
  return new Simulation(options);
}

/** Simulated events ordered by event time, each with its session's ground-truth archetype. */
export function generate(options: SimulationOptions = {}): Iterable<SimItem> {
  const sim = new Simulation(options);
  return { [Symbol.iterator]: () => sim.events() };
}
