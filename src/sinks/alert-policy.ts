// Decides when a scored session update becomes a ChurnAlert: only on entering a higher risk
// band, with hysteresis so a risk hovering around a threshold alerts once, not on every wobble.
// The bands are the ones the readout puts in every signal: the thresholds are the one risk
// setting (contracts/risk.ts, `--risk`) as resolved for the serving bundle, never a second pair.
//
// Per session the policy keeps the band it last alerted for (the "latched" band, lowered again
// only when the risk falls below that band's lower threshold minus a margin), the event time of
// its last alert (cool-down) and how many alerts it raised per band (the alert ids count them).
// Sessions that never alerted hold no state at all, and the rest live in typed arrays indexed by
// a slot, so a million live sessions cost a Map entry plus 13 bytes each, not an object each.
// stateOf()/restore() move one session's state in and out (the processor keeps it in a compacted
// topic, so alerts survive a crash: docs/reliability.md).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { componentOptions, gotValue, parseOptions } from '../options.ts';
import { buildAlertReason, type AlertReasonOptions } from './alert-reason.ts';
import { RISK_BANDS, type ChurnAlert, type RiskBand } from '../contracts/records.ts';
import { riskThresholdDefaults, type RiskThresholds } from '../contracts/risk.ts';

export interface AlertPolicyOptions {
  /** Lower bound of the medium band (risk ≥ this is at least medium): the risk setting's medium. */
  mediumThreshold: number;
  /** Lower bound of the high band: the risk setting's high. */
  highThreshold: number;
  /**
   * Hysteresis: after alerting at band B, the session alerts at B again only once its risk fell
   * below B's lower threshold minus this margin.
   */
  rearmMargin: number;
  /** A session with fewer events is too young to judge; it alerts once it has this many. */
  minEvents: number;
  /** Minimum event time (ms) between two alerts of one session. */
  cooldownMs: number;
  /** How the reason text is built. */
  reason?: Partial<AlertReasonOptions>;
  /** Wall clock for `emittedAt`; event time drives every decision. */
  now?: () => number;
}

export const alertPolicyDefaults = {
  mediumThreshold: riskThresholdDefaults.medium,
  highThreshold: riskThresholdDefaults.high,
  rearmMargin: 0.05,
  minEvents: 3,
  cooldownMs: 10 * 60_000,
} satisfies Partial<AlertPolicyOptions>;

/** One scored update of a session, as the model stage produces it. */
export interface RiskObservation {
  sessionId: string;
  userId: string | null;
  /** The JourneySignal of this update. */
  signalId: string;
  /** Id of the newest event in the scored window; it names the alert this update may raise. */
  lastEventId: string;
  /** Event time this update describes (its last event, or a quiet re-score's checkpoint), ms. */
  eventTime: number;
  /** How long the session had been quiet at eventTime (ms); the alert reason names it. */
  quietMs?: number;
  /** This is the session's final signal (it closed). */
  final?: boolean;
  eventCount: number;
  churnRisk: number;
  clusterId: number;
  clusterLabel: string;
  modelVersion: string;
  /**
   * Event types of the most recent steps, oldest first. Read only when an alert fires, so a
   * function avoids building the list for the many updates that do not alert.
   */
  steps: readonly string[] | (() => readonly string[]);
}

/** One session's alert state, as stateOf() gives it and restore() takes it back. */
export interface AlertSessionState {
  /** Band index it last alerted for (0 low, 1 medium, 2 high), after any re-arming. */
  latched: number;
  /** Event time of its last alert (ms). */
  lastAlertAt: number;
  /** Alerts raised so far at medium and at high. */
  raised: [number, number];
}

const NONE = -1;
const INITIAL_SLOTS = 1024;

/**
 * Deterministic alert id: the n-th time (from 0) a session enters a band. Not the event that
 * triggered it: which events of a session are scored depends on how updates were coalesced into
 * ticks (timing), so a run that crashed and one that did not may see a session reach a band at
 * different events, and it is still the same alert. The count survives a crash because the
 * policy state does (the compacted alert-state topic), not because the replay rebuilds it.
 */
export function alertIdFor(sessionId: string, band: RiskBand, n: number): string {
  return createHash('sha256').update(`alert\u0000${sessionId}\u0000${band}\u0000${n}`).digest('hex').slice(0, 32);
}

export class AlertPolicy {
  private readonly opts: Required<Omit<AlertPolicyOptions, 'reason' | 'now'>>;
  private readonly reasonOptions: Partial<AlertReasonOptions>;
  private readonly now: () => number;
  /** Lower threshold of band index 0..2 (low has none). */
  private lower: readonly [number, number, number];
  private readonly slots = new Map<string, number>();
  private free: number[] = [];
  private next = 0;
  private latched = new Uint8Array(INITIAL_SLOTS);
  private lastAlertAt = new Float64Array(INITIAL_SLOTS);
  /** Alerts raised per slot: [2·slot] at medium, [2·slot + 1] at high. */
  private raised = new Uint16Array(2 * INITIAL_SLOTS);

  constructor(options: Partial<AlertPolicyOptions> = {}) {
    const opts = { ...alertPolicyDefaults, ...options };
    validate(opts);
    this.opts = {
      mediumThreshold: opts.mediumThreshold,
      highThreshold: opts.highThreshold,
      rearmMargin: opts.rearmMargin,
      minEvents: opts.minEvents,
      cooldownMs: opts.cooldownMs,
    };
    this.reasonOptions = options.reason ?? {};
    this.now = options.now ?? Date.now;
    this.lower = [Number.NEGATIVE_INFINITY, opts.mediumThreshold, opts.highThreshold];
  }

  /** Where the bands begin now (a reloaded bundle may resolve an alert budget to new thresholds). */
  get thresholds(): RiskThresholds {
    return { medium: this.opts.mediumThreshold, high: this.opts.highThreshold };
  }

  /**
   * Moves the bands (the serving bundle changed). Latched bands stay as they are: a session that
   * alerted at high is not alerted again for the same band because a threshold moved.
   */
  setThresholds(t: RiskThresholds): void {
    if (t.medium === this.opts.mediumThreshold && t.high === this.opts.highThreshold) return;
    validate({ ...this.opts, mediumThreshold: t.medium, highThreshold: t.high });
    this.opts.mediumThreshold = t.medium;
    this.opts.highThreshold = t.high;
    this.lower = [Number.NEGATIVE_INFINITY, t.medium, t.high];
  }

  bandOf(risk: number): RiskBand {
    return RISK_BANDS[this.bandIndex(risk)] as RiskBand;
  }

  /** Sessions currently holding alert state. */
  get size(): number {
    return this.slots.size;
  }

  /** Feeds one scored update; returns the alert it raises, if any. */
  observe(obs: RiskObservation): ChurnAlert | undefined {
    const risk = obs.churnRisk;
    // A model that cannot score a session says nothing about its band; keep the state as it is.
    if (!Number.isFinite(risk)) return undefined;
    const band = this.bandIndex(risk);
    let slot = this.slots.get(obs.sessionId) ?? NONE;
    let latched = slot === NONE ? 0 : (this.latched[slot] as number);
    while (latched > 0 && risk < (this.lower[latched] as number) - this.opts.rearmMargin) latched--;
    if (slot !== NONE) this.latched[slot] = latched;

    if (band <= latched || obs.eventCount < this.opts.minEvents) return undefined;
    if (slot !== NONE && obs.eventTime < (this.lastAlertAt[slot] as number) + this.opts.cooldownMs) return undefined;

    if (slot === NONE) slot = this.allocate(obs.sessionId);
    this.latched[slot] = band;
    this.lastAlertAt[slot] = obs.eventTime;
    const n = this.raised[2 * slot + band - 1] as number;
    this.raised[2 * slot + band - 1] = n + 1;
    const riskBand = RISK_BANDS[band] as RiskBand;
    const steps = typeof obs.steps === 'function' ? obs.steps() : obs.steps;
    return {
      alertId: alertIdFor(obs.sessionId, riskBand, n),
      signalId: obs.signalId,
      sessionId: obs.sessionId,
      userId: obs.userId,
      churnRisk: risk,
      riskBand,
      previousBand: RISK_BANDS[latched] as RiskBand,
      clusterId: obs.clusterId,
      clusterLabel: obs.clusterLabel,
      reason: buildAlertReason({ steps, clusterLabel: obs.clusterLabel, churnRisk: risk, ...(obs.quietMs ? { quietMs: obs.quietMs } : {}), ...(obs.final ? { ended: true } : {}) }, this.reasonOptions),
      eventCount: obs.eventCount,
      modelVersion: obs.modelVersion,
      emittedAt: this.now(),
    };
  }

  /** The session's alert state; undefined when it never alerted (or was released). */
  stateOf(sessionId: string): AlertSessionState | undefined {
    const slot = this.slots.get(sessionId);
    if (slot === undefined) return undefined;
    return { latched: this.latched[slot] as number, lastAlertAt: this.lastAlertAt[slot] as number, raised: [this.raised[2 * slot] as number, this.raised[2 * slot + 1] as number] };
  }

  /** Puts a session's state back (as stateOf() gave it before a restart), replacing what it holds. */
  restore(sessionId: string, state: AlertSessionState): void {
    const slot = this.slots.get(sessionId) ?? this.allocate(sessionId);
    this.latched[slot] = Math.max(0, Math.min(2, Math.trunc(state.latched)));
    this.lastAlertAt[slot] = state.lastAlertAt;
    this.raised[2 * slot] = state.raised[0];
    this.raised[2 * slot + 1] = state.raised[1];
  }

  /** Forgets a closed session (call after its final update was observed). */
  release(sessionId: string): void {
    const slot = this.slots.get(sessionId);
    if (slot === undefined) return;
    this.slots.delete(sessionId);
    this.free.push(slot);
  }

  clear(): void {
    this.slots.clear();
    this.free = [];
    this.next = 0;
  }

  private bandIndex(risk: number): number {
    if (risk >= this.opts.highThreshold) return 2;
    if (risk >= this.opts.mediumThreshold) return 1;
    return 0;
  }

  private allocate(sessionId: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next++;
      if (slot >= this.latched.length) this.grow();
    }
    this.slots.set(sessionId, slot);
    this.latched[slot] = 0;
    this.lastAlertAt[slot] = Number.NEGATIVE_INFINITY;
    this.raised[2 * slot] = 0;
    this.raised[2 * slot + 1] = 0;
    return slot;
  }

  private grow(): void {
    const latched = new Uint8Array(this.latched.length * 2);
    latched.set(this.latched);
    const lastAlertAt = new Float64Array(this.lastAlertAt.length * 2);
    lastAlertAt.set(this.lastAlertAt);
    const raised = new Uint16Array(this.raised.length * 2);
    raised.set(this.raised);
    this.latched = latched;
    this.lastAlertAt = lastAlertAt;
    this.raised = raised;
  }
}

const unitRule = gotValue('must be a number in (0, 1]', '.');
const inUnit = z.number({ error: unitRule }).gt(0, { error: unitRule }).lte(1, { error: unitRule });
const minEventsRule = gotValue('must be an integer ≥ 1', '.');
const cooldownRule = gotValue('must be a number of ms ≥ 0', '.');

const alertPolicySchema = z
  .object({
    mediumThreshold: inUnit,
    highThreshold: inUnit,
    rearmMargin: z.unknown().optional(),
    minEvents: z.number({ error: minEventsRule }).int({ error: minEventsRule }).min(1, { error: minEventsRule }),
    cooldownMs: z.number({ error: cooldownRule }).min(0, { error: cooldownRule }),
  })
  .superRefine((o, ctx) => {
    if (o.highThreshold <= o.mediumThreshold) {
      ctx.addIssue({ code: 'custom', path: ['highThreshold'], message: `(${o.highThreshold}) must be greater than mediumThreshold (${o.mediumThreshold}).` });
    }
    const r = o.rearmMargin;
    if (!(typeof r === 'number' && Number.isFinite(r) && r >= 0 && r < o.mediumThreshold)) {
      ctx.addIssue({ code: 'custom', path: ['rearmMargin'], message: `must be ≥ 0 and less than mediumThreshold (${o.mediumThreshold}), got ${String(r)}.` });
    }
  });

function validate(o: typeof alertPolicyDefaults & Partial<AlertPolicyOptions>): void {
  parseOptions(alertPolicySchema, o, componentOptions('alert policy'));
}
