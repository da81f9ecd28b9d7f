// The console's in-memory state, fed from two streams, JourneySignals and ChurnAlerts (beside
// the processor they are handed over in-process once published; `journeylens ui` reads them
// from the output topics), plus the model bundle's card. Every part is bounded by a count fixed
// at construction (CONSOLE_LIMITS; docs/console.md states them): the alert feed is a ring, the
// session index an LRU by newest signal, each session's risk path a ring, the per-minute mix a
// ring of minutes. Nothing here grows with traffic beyond those counts.
import { randomBytes } from 'node:crypto';
import { type Logger } from 'pino';
import { type ChurnAlert, type JourneySignal, RISK_BANDS, type RiskBand } from '../contracts/records.ts';
import { resolveRiskSetting, type RiskSetting, type RiskThresholds } from '../contracts/risk.ts';
import { type ImageSpec, imageWidth } from '../journey/image-spec.ts';
import { renderJourneyPng } from '../render/image-png.ts';
import { loadModelCard, type ModelCard } from './model-card.ts';

export const CONSOLE_API_VERSION = 1;

/** The bounds of the console's state (docs/console.md, docs/console-api.md). */
export const CONSOLE_LIMITS = {
  /** Alerts kept in the feed (a ring). */
  feed: 500,
  /** Alerts a new stream connection gets before live ones. */
  backlog: 200,
  /** Sessions in the session index (LRU by newest signal). */
  sessions: 10_000,
  /** Points of a session's risk path (its newest signals). */
  signalsPerSession: 64,
  /** Alerts kept per session (its newest). */
  alertsPerSession: 16,
  /** Minute buckets of the mix (signals, alerts, active sessions by cluster). */
  mixMinutes: 120,
  /** Open /api/events streams. */
  streams: 32,
} as const;
export type ConsoleLimits = { [K in keyof typeof CONSOLE_LIMITS]: number };

/** Sessions a user lookup returns (newest first). */
export const USER_SESSIONS = 20;

/** Characters kept of an event's type and page (untrusted strings of any length). */
export const LAST_EVENT_TEXT_LIMIT = 200;

const MINUTE_MS = 60_000;
const DEFAULT_ACTIVE_WINDOW_MS = 30 * MINUTE_MS;
// A model version nobody loads (a bundle directory that was not updated, junk on a topic) is
// retried at most this often: a reload verifies every checksum of the bundle.
const MODEL_RETRY_MS = 10_000;

export type ConsoleMode = 'run' | 'ui';

export interface LastEvent {
  type: string;
  page: string | null;
  timestamp: number;
}

/** A session's journey image as the processor scored it (a SessionView satisfies it). */
export interface JourneyImageSource {
  readonly spec: ImageSpec;
  /** Event time the image describes. */
  readonly asOf: number;
  rasterize(): Float32Array;
}

/** What a scored update adds beside its signal: only the processor has it (run mode). */
export interface SignalExtras {
  image?: JourneyImageSource;
  lastEvent?: LastEvent | null;
}

/** A ChurnAlert as the feed and the stream carry it (the signal id is internal). */
export type FeedAlert = Omit<ChurnAlert, 'signalId'>;

export type ConsoleChange = { kind: 'alert'; seq: number; alert: FeedAlert } | { kind: 'model'; modelVersion: string };

export interface ConsoleStateOptions {
  mode: ConsoleMode;
  /** The bundle whose clusters, prototypes and figures the console shows; none: no gallery. */
  bundleDir?: string;
  /** The one risk setting (`--risk`): the bands of signals and alerts, shaded in the risk-path chart. */
  risk: RiskSetting;
  /** Default: the bundle's session gap (30 min without a bundle). */
  activeWindowMs?: number;
  limits?: Partial<ConsoleLimits>;
  /**
   * The signals topic's pseudonyms (`journeylens ui --pseudonymize-key-file`, docs/privacy.md):
   * signals carry pseudonymous ids and alerts the real ones, so an alert joins the pseudonymous
   * session it belongs to, and a session or user looked up by its real id is found.
   */
  pseudonym?: (id: string) => string;
  log: Logger;
  now?: () => number;
}

export interface MixPoint {
  t: number;
  signals: number;
  alerts: number;
  alertsByBand: Record<RiskBand, number>;
  active: number;
  activeByCluster: Record<string, number>;
}

interface MinuteBucket {
  t: number;
  signals: number;
  alerts: number;
  alertsByBand: Record<RiskBand, number>;
  /** Sampled when the minute closed. */
  active?: { total: number; byCluster: Record<string, number> };
}

interface AlertBrief {
  alertId: string;
  emittedAt: number;
  churnRisk: number;
  riskBand: RiskBand;
  previousBand: RiskBand;
  reason: string;
}

// A risk path point: emittedAt, windowEnd, churnRisk, eventCount, clusterId, band index + 4·final
// (~48 bytes a point, allocated as the path grows).
const STRIDE = 6;

/** The newest `cap` signals of a session, as a ring of packed points. */
class RiskPath {
  #data: Float64Array;
  #start = 0;
  #count = 0;

  constructor(private readonly cap: number) {
    this.#data = new Float64Array(Math.min(cap, 8) * STRIDE);
  }

  get length(): number {
    return this.#count;
  }

  push(s: JourneySignal): void {
    const room = this.#data.length / STRIDE;
    let at: number;
    if (this.#count < room) at = (this.#start + this.#count++) % room;
    else if (room < this.cap) {
      // the ring has not wrapped before it is full, so the points are in order from 0
      const grown = new Float64Array(Math.min(this.cap, room * 2) * STRIDE);
      grown.set(this.#data);
      this.#data = grown;
      at = this.#count++;
    } else {
      at = this.#start;
      this.#start = (this.#start + 1) % room;
    }
    const o = at * STRIDE;
    const d = this.#data;
    d[o] = s.emittedAt;
    d[o + 1] = s.windowEnd;
    d[o + 2] = s.churnRisk;
    d[o + 3] = s.eventCount;
    d[o + 4] = s.clusterId;
    d[o + 5] = Math.max(0, RISK_BANDS.indexOf(s.riskBand)) + (s.final ? 4 : 0);
  }

  /** Oldest first. */
  points(): { emittedAt: number; windowEnd: number; churnRisk: number; riskBand: RiskBand; clusterId: number; eventCount: number; final: boolean }[] {
    const room = this.#data.length / STRIDE;
    const out = [];
    for (let k = 0; k < this.#count; k++) {
      const o = ((this.#start + k) % room) * STRIDE;
      const d = this.#data;
      const flags = d[o + 5]!;
      out.push({ emittedAt: d[o]!, windowEnd: d[o + 1]!, churnRisk: d[o + 2]!, riskBand: RISK_BANDS[flags % 4] ?? 'low', clusterId: d[o + 4]!, eventCount: d[o + 3]!, final: flags >= 4 });
    }
    return out;
  }
}

interface SessionEntry {
  sessionId: string;
  userId: string | null;
  /** The newest signal (none yet when an alert came first, as it may from two topics). */
  latest: JourneySignal | undefined;
  path: RiskPath;
  /** Newest last. */
  alerts: AlertBrief[];
  lastEvent: LastEvent | null;
  image: JourneyImageSource | undefined;
}

const zeroBands = (): Record<RiskBand, number> => ({ low: 0, medium: 0, high: 0 });
const minuteOf = (t: number): number => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** Cuts an untrusted string to `limit` characters (whole code points). */
export function cutText(s: string, limit = LAST_EVENT_TEXT_LIMIT): string {
  if (s.length <= limit) return s;
  return Array.from(s).slice(0, limit).join('');
}

export class ConsoleState {
  readonly mode: ConsoleMode;
  readonly limits: ConsoleLimits;
  /** Random per process: stream ids are `<bootId>-<seq>`, so a resume after a restart is recognised. */
  readonly bootId = randomBytes(4).toString('hex');
  readonly #risk: RiskSetting;
  /** The setting resolved without a bundle (probabilities only); a bundle's card has its own. */
  readonly #unbundledThresholds: RiskThresholds | undefined;
  /** Counts since start, for logs and tests. */
  readonly stats = { signals: 0, alerts: 0, duplicateAlerts: 0, sessionsEvicted: 0, alertsDropped: 0, modelReloads: 0 };
  /**
   * True while `journeylens ui` re-reads the window before live traffic: minutes are then closed
   * by the replayed signals' times, not by the wall clock.
   */
  replaying = false;

  readonly #now: () => number;
  readonly #log: Logger;
  readonly #bundleDir: string | undefined;
  readonly #pseudonym: ((id: string) => string) | undefined;
  readonly #activeWindowMs: number | undefined;
  #card: ModelCard | undefined;
  #lastTried: { version: string; at: number } | undefined;
  /** Newest model version seen on a signal (shown when there is no bundle). */
  #seenVersion: string | undefined;

  /** Ring of the feed: index seq % feed. */
  readonly #feed: ({ seq: number; alert: FeedAlert } | undefined)[];
  #seq = 0;
  readonly #feedIds = new Map<string, number>();
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #minutes: (MinuteBucket | undefined)[];
  #openMinute: number | undefined;
  readonly #listeners = new Set<(change: ConsoleChange) => void>();
  #pngCache: { key: string; png: Buffer } | undefined;

  constructor(options: ConsoleStateOptions) {
    this.mode = options.mode;
    this.limits = { ...CONSOLE_LIMITS, ...options.limits };
    this.#risk = options.risk;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    this.#bundleDir = options.bundleDir;
    this.#pseudonym = options.pseudonym;
    this.#activeWindowMs = options.activeWindowMs;
    this.#feed = new Array<undefined>(this.limits.feed).fill(undefined);
    this.#minutes = new Array<undefined>(this.limits.mixMinutes).fill(undefined);
    // A bundle that cannot be read stops the start-up (the message names the file), like `run`.
    if (this.#bundleDir !== undefined) this.#card = loadModelCard(this.#bundleDir, this.#now(), this.#risk);
    this.#unbundledThresholds = this.#card ? undefined : resolveRiskSetting(this.#risk, undefined, '--risk (env JOURNEYLENS_RISK)');
  }

  /** Where the medium and high bands begin for the model shown. */
  get thresholds(): RiskThresholds {
    return this.#card?.thresholds ?? (this.#unbundledThresholds as RiskThresholds);
  }

  get card(): ModelCard | undefined {
    return this.#card;
  }

  get activeWindowMs(): number {
    return this.#activeWindowMs ?? this.#card?.sessionization.gapMs ?? DEFAULT_ACTIVE_WINDOW_MS;
  }

  /** Sessions in the index now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Alerts in the feed now. */
  get feedCount(): number {
    return Math.min(this.#seq, this.limits.feed);
  }

  /** Sequence number of the newest alert in the feed (0: none yet). */
  get lastSeq(): number {
    return this.#seq;
  }

  subscribe(listener: (change: ConsoleChange) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #emit(change: ConsoleChange): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#log.warn({ err }, 'console listener failed');
      }
    }
  }

  // ---------- input ----------

  addSignal(signal: JourneySignal, extras: SignalExtras = {}): void {
    this.stats.signals++;
    this.#noteModelVersion(signal.modelVersion);
    // a time ahead of this clock (skew, junk on a topic) counts in the current minute
    const t = Math.min(signal.emittedAt, this.#now());
    this.#advance(t);
    const bucket = this.#bucket(t);
    if (bucket) bucket.signals++;
    const entry = this.#touch(signal.sessionId, signal.userId);
    entry.latest = signal;
    if (signal.userId !== null) entry.userId = signal.userId;
    entry.path.push(signal);
    if (extras.image !== undefined) entry.image = extras.image;
    if (extras.lastEvent !== undefined) entry.lastEvent = extras.lastEvent;
  }

  addAlert(alert: ChurnAlert): void {
    if (this.#feedIds.has(alert.alertId)) {
      // deterministic ids: the same alert published again (at-least-once, a replay) is one alert
      this.stats.duplicateAlerts++;
      return;
    }
    this.stats.alerts++;
    const t = Math.min(alert.emittedAt, this.#now());
    this.#advance(t);
    const bucket = this.#bucket(t);
    if (bucket) {
      bucket.alerts++;
      if (RISK_BANDS.includes(alert.riskBand)) bucket.alertsByBand[alert.riskBand]++;
    }
    const { signalId: _internal, ...feedAlert } = alert;
    const seq = ++this.#seq;
    const slot = seq % this.limits.feed;
    const old = this.#feed[slot];
    if (old) {
      this.#feedIds.delete(old.alert.alertId);
      this.stats.alertsDropped++;
    }
    this.#feed[slot] = { seq, alert: feedAlert };
    this.#feedIds.set(alert.alertId, seq);

    const p = this.#pseudonym;
    const entry = p ? this.#touch(p(alert.sessionId), alert.userId === null ? null : p(alert.userId)) : this.#touch(alert.sessionId, alert.userId);
    entry.alerts.push({ alertId: alert.alertId, emittedAt: alert.emittedAt, churnRisk: alert.churnRisk, riskBand: alert.riskBand, previousBand: alert.previousBand, reason: alert.reason });
    if (entry.alerts.length > this.limits.alertsPerSession) entry.alerts.splice(0, entry.alerts.length - this.limits.alertsPerSession);
    this.#emit({ kind: 'alert', seq, alert: feedAlert });
  }

  /** The session's entry, moved to the newest end of the LRU (created, evicting the oldest, when new). */
  #touch(sessionId: string, userId: string | null): SessionEntry {
    let entry = this.#sessions.get(sessionId);
    if (entry) this.#sessions.delete(sessionId);
    else {
      entry = { sessionId, userId, latest: undefined, path: new RiskPath(this.limits.signalsPerSession), alerts: [], lastEvent: null, image: undefined };
      while (this.#sessions.size >= this.limits.sessions) {
        const oldest = this.#sessions.keys().next().value as string;
        this.#sessions.delete(oldest);
        this.stats.sessionsEvicted++;
      }
    }
    this.#sessions.set(sessionId, entry);
    return entry;
  }

  // ---------- model ----------

  /**
   * A signal scored by another model version than the card shows means the bundle was
   * reloaded (or the topics carry another bundle's signals): read the directory again. Loading
   * is synchronous (checksums, 7 small PNGs for the default bundle: tens of ms) and happens
   * once per model change.
   */
  #noteModelVersion(version: string): void {
    this.#seenVersion = version;
    const card = this.#card;
    if (card === undefined || this.#bundleDir === undefined || version === card.modelVersion) return;
    const now = this.#now();
    if (this.#lastTried && this.#lastTried.version === version && now - this.#lastTried.at < MODEL_RETRY_MS) return;
    this.#lastTried = { version, at: now };
    try {
      const next = loadModelCard(this.#bundleDir, now, this.#risk);
      if (next.modelVersion !== card.modelVersion) {
        this.#card = next;
        this.stats.modelReloads++;
        this.#log.info({ modelVersion: next.modelVersion, previous: card.modelVersion }, 'console: model card reloaded');
        this.#emit({ kind: 'model', modelVersion: next.modelVersion });
      }
      if (next.modelVersion !== version) {
        this.#log.warn({ signals: version, bundle: next.modelVersion, dir: this.#bundleDir }, 'console: signals carry another model version than the bundle directory; the gallery shows the bundle');
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, dir: this.#bundleDir }, 'console: could not reload the model card; the previous one stays');
    }
  }

  modelBody(): Record<string, unknown> {
    const card = this.#card;
    const version = card?.modelVersion ?? this.#seenVersion ?? 'none';
    const v = encodeURIComponent(version);
    return {
      apiVersion: CONSOLE_API_VERSION,
      mode: this.mode,
      modelVersion: version,
      createdAt: card?.createdAt ?? null,
      loadedAt: card?.loadedAt ?? null,
      imageSpec: card ? { ...card.imageSpec, cols: imageWidth(card.imageSpec) } : null,
      sessionization: card?.sessionization ?? null,
      training: card?.training ?? {},
      metrics: card?.metrics ?? {},
      riskBands: { mediumThreshold: this.thresholds.medium, highThreshold: this.thresholds.high },
      activeWindowMs: this.activeWindowMs,
      limits: this.limits,
      clusters: (card?.clusters ?? []).map((c) => ({
        ...c,
        prototypeUrl: card?.prototypes.has(c.id) ? `/api/clusters/${c.id}/prototype.png?v=${v}` : null,
      })),
    };
  }

  prototypePng(clusterId: number): Buffer | undefined {
    return this.#card?.prototypes.get(clusterId);
  }

  // ---------- feed ----------

  /** The newest `n` alerts of the feed, oldest first. */
  backlog(n: number): { seq: number; alert: FeedAlert }[] {
    const from = Math.max(this.#seq - Math.min(n, this.limits.feed) + 1, 1);
    return this.#range(from);
  }

  /** Alerts after `seq`, oldest first; undefined when `seq` is no longer in the feed (the client missed some). */
  alertsAfter(seq: number): { seq: number; alert: FeedAlert }[] | undefined {
    const oldest = this.#seq - this.feedCount + 1;
    if (seq > this.#seq || seq < oldest) return undefined;
    return this.#range(seq + 1);
  }

  #range(from: number): { seq: number; alert: FeedAlert }[] {
    const out = [];
    for (let s = from; s <= this.#seq; s++) {
      const item = this.#feed[s % this.limits.feed];
      if (item && item.seq === s) out.push(item);
    }
    return out;
  }

  // ---------- mix ----------

  #bucket(t: number): MinuteBucket | undefined {
    const m = minuteOf(t);
    const newest = Math.max(this.#openMinute ?? m, minuteOf(this.#now()));
    // older than the ring: nothing to count it in
    if (m <= newest - this.limits.mixMinutes * MINUTE_MS) return undefined;
    const i = (m / MINUTE_MS) % this.limits.mixMinutes;
    let b = this.#minutes[i];
    if (!b || b.t !== m) {
      b = { t: m, signals: 0, alerts: 0, alertsByBand: zeroBands() };
      this.#minutes[i] = b;
    }
    return b;
  }

  /**
   * Closes the minutes before `t`'s, sampling each one's active sessions as of its end. Live,
   * the wall clock moves the minute on; while `ui` replays, the replayed signals' times do.
   */
  #advance(t: number): void {
    const m = minuteOf(t);
    if (this.#openMinute === undefined) {
      this.#openMinute = m;
      return;
    }
    if (m <= this.#openMinute) return;
    const first = Math.max(this.#openMinute, m - this.limits.mixMinutes * MINUTE_MS);
    for (let minute = first; minute < m; minute += MINUTE_MS) {
      const b = this.#bucket(minute);
      if (b && b.active === undefined) b.active = this.#activeAt(minute + MINUTE_MS - 1);
    }
    this.#openMinute = m;
  }

  /** Moves the wall-clock minute on (the server calls it before each summary). */
  tick(): void {
    if (!this.replaying) this.#advance(this.#now());
  }

  /**
   * Sessions whose newest signal is not final and was emitted within the active window before
   * `t`, by cluster. A minute is closed a few seconds late (at the next summary): a session
   * whose newest signal came after `t` was active at `t` too, so it counts.
   */
  #activeAt(t: number): { total: number; byCluster: Record<string, number> } {
    const since = t - this.activeWindowMs;
    const byCluster: Record<string, number> = {};
    let total = 0;
    for (const e of this.#sessions.values()) {
      const s = e.latest;
      if (!s || s.final || s.emittedAt <= since) continue;
      total++;
      const k = String(s.clusterId);
      byCluster[k] = (byCluster[k] ?? 0) + 1;
    }
    return { total, byCluster };
  }

  /** The last `minutes` minutes, oldest first, the current (still filling) minute last. */
  mix(minutes: number): MixPoint[] {
    this.tick();
    const now = this.#now();
    const current = minuteOf(now);
    const n = Math.min(minutes, this.limits.mixMinutes);
    const out: MixPoint[] = [];
    for (let k = n - 1; k >= 0; k--) {
      const t = current - k * MINUTE_MS;
      const b = this.#minutes[(t / MINUTE_MS) % this.limits.mixMinutes];
      const mine = b && b.t === t ? b : undefined;
      const active = t === current ? this.#activeAt(now) : mine?.active;
      out.push({
        t,
        signals: mine?.signals ?? 0,
        alerts: mine?.alerts ?? 0,
        alertsByBand: mine ? { ...mine.alertsByBand } : zeroBands(),
        active: active?.total ?? 0,
        activeByCluster: active?.byCluster ?? {},
      });
    }
    return out;
  }

  /** The current minute as a mix point (the stream's `summary`). */
  currentPoint(): MixPoint {
    return this.mix(1)[0]!;
  }

  // ---------- sessions ----------

  /** The session of this id, or (pseudonyms on) of the id's pseudonym. */
  #session(sessionId: string): SessionEntry | undefined {
    return this.#sessions.get(sessionId) ?? (this.#pseudonym ? this.#sessions.get(this.#pseudonym(sessionId)) : undefined);
  }

  sessionBody(sessionId: string): Record<string, unknown> | undefined {
    const e = this.#session(sessionId);
    if (!e) return undefined;
    const s = e.latest;
    const version = s ? s.signalId.slice(0, 16) : 'none';
    const image =
      e.image && s
        ? { url: `/api/sessions/${encodeURIComponent(e.sessionId)}/image.png?v=${encodeURIComponent(version)}`, rows: e.image.spec.rows, cols: imageWidth(e.image.spec), asOf: e.image.asOf }
        : null;
    const imageNote = image
      ? null
      : this.mode === 'ui'
        ? 'journeylens ui reads only the output topics, which carry no journey images; journeylens run --ui-port draws them beside the processor.'
        : 'No journey image is kept for this session yet.';
    return {
      sessionId: e.sessionId,
      userId: e.userId,
      state: s?.final ? 'closed' : 'open',
      latest: s ?? null,
      image,
      imageNote,
      lastEvent: e.lastEvent,
      signals: e.path.points(),
      alerts: [...e.alerts].reverse(),
    };
  }

  /** The session's current journey image as a PNG, drawn like `journeylens render` without the title line. */
  sessionImagePng(sessionId: string): Buffer | undefined {
    const e = this.#session(sessionId);
    if (!e?.image || !e.latest) return undefined;
    // an open session shown in the page is fetched every 5 s: draw it once per signal
    const key = `${sessionId}\u0000${e.latest.signalId}`;
    if (this.#pngCache?.key === key) return this.#pngCache.png;
    const png = renderJourneyPng(e.image.rasterize(), e.image.spec);
    this.#pngCache = { key, png };
    return png;
  }

  /** The user's sessions in the index, newest first, at most 20. */
  userBody(userId: string): Record<string, unknown> | undefined {
    const found: SessionEntry[] = [];
    const pseudonym = this.#pseudonym?.(userId);
    for (const e of this.#sessions.values()) if (e.userId === userId || (pseudonym !== undefined && e.userId === pseudonym)) found.push(e);
    if (found.length === 0) return undefined;
    const newest = (e: SessionEntry): number => e.latest?.emittedAt ?? e.alerts.at(-1)?.emittedAt ?? 0;
    found.sort((a, b) => newest(b) - newest(a));
    return {
      userId,
      sessions: found.slice(0, USER_SESSIONS).map((e) => ({
        sessionId: e.sessionId,
        state: e.latest?.final ? 'closed' : 'open',
        emittedAt: newest(e),
        churnRisk: e.latest?.churnRisk ?? null,
        riskBand: e.latest?.riskBand ?? null,
        clusterId: e.latest?.clusterId ?? null,
        clusterLabel: e.latest?.clusterLabel ?? null,
      })),
    };
  }
}
