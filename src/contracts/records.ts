// The record shapes of schemas/*.avsc as TypeScript types. Each type has a field spec that the
// compiler checks against the type (names, nullability, kind) and test/unit/contracts/records.test.ts
// checks against the schema file, so the type and the schema cannot drift apart.
import type { CloseReason } from '../journey/session-view.ts';

export const RISK_BANDS = ['low', 'medium', 'high'] as const;
/** schemas/journey-signal.avsc, enum journeylens.RiskBand */
export type RiskBand = (typeof RISK_BANDS)[number];

/** schemas/click-event.avsc */
export interface ClickEvent {
  eventId: string;
  sessionId: string;
  userId: string | null;
  /** Event time, ms since the epoch. */
  timestamp: number;
  type: string;
  page: string | null;
  durationMs: number | null;
  value: number | null;
  properties: Record<string, string>;
}

/** schemas/journey-signal.avsc */
export interface JourneySignal {
  /** Deterministic from sessionId, last event id, modelVersion and final (or, for a quiet re-score, its checkpoint). */
  signalId: string;
  sessionId: string;
  userId: string | null;
  eventCount: number;
  /** ms since the epoch */
  windowStart: number;
  /** ms since the epoch */
  windowEnd: number;
  /** -1 when no cluster could be assigned. */
  clusterId: number;
  clusterLabel: string;
  distance: number;
  novel: boolean;
  /** 0..1 */
  churnRisk: number;
  riskBand: RiskBand;
  modelVersion: string;
  /** ms since the epoch */
  emittedAt: number;
  /** The last signal of a session, emitted when it closes. */
  final: boolean;
  /**
   * Why the session closed (journey/session-view.ts CLOSE_REASONS): set when final, null
   * otherwise. Optional because the schema gives it a default (records written before it read null).
   */
  closeReason?: CloseReason | null;
}

/** schemas/churn-alert.avsc */
export interface ChurnAlert {
  /** Deterministic from sessionId, riskBand and the id of the event that raised it (stable across replays). */
  alertId: string;
  signalId: string;
  sessionId: string;
  userId: string | null;
  churnRisk: number;
  riskBand: RiskBand;
  previousBand: RiskBand;
  clusterId: number;
  clusterLabel: string;
  reason: string;
  eventCount: number;
  modelVersion: string;
  /** ms since the epoch */
  emittedAt: number;
}

/** What a field holds, as far as the type/schema comparison needs it. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'map';
type KindOf<T> = [T] extends [string] ? 'string' : [T] extends [number] ? 'number' : [T] extends [boolean] ? 'boolean' : [T] extends [Record<string, string>] ? 'map' : never;

/**
 * One entry per field of T, in schema order. The mapped type makes the compiler reject a
 * missing or extra key, or a nullability/kind that does not match T.
 */
export type FieldSpec<T> = {
  [K in keyof T]-?: { nullable: null extends T[K] ? true : false; kind: KindOf<NonNullable<T[K]>> };
};

export const clickEventFieldSpec: FieldSpec<ClickEvent> = {
  eventId: { nullable: false, kind: 'string' },
  sessionId: { nullable: false, kind: 'string' },
  userId: { nullable: true, kind: 'string' },
  timestamp: { nullable: false, kind: 'number' },
  type: { nullable: false, kind: 'string' },
  page: { nullable: true, kind: 'string' },
  durationMs: { nullable: true, kind: 'number' },
  value: { nullable: true, kind: 'number' },
  properties: { nullable: false, kind: 'map' },
};

export const journeySignalFieldSpec: FieldSpec<JourneySignal> = {
  signalId: { nullable: false, kind: 'string' },
  sessionId: { nullable: false, kind: 'string' },
  userId: { nullable: true, kind: 'string' },
  eventCount: { nullable: false, kind: 'number' },
  windowStart: { nullable: false, kind: 'number' },
  windowEnd: { nullable: false, kind: 'number' },
  clusterId: { nullable: false, kind: 'number' },
  clusterLabel: { nullable: false, kind: 'string' },
  distance: { nullable: false, kind: 'number' },
  novel: { nullable: false, kind: 'boolean' },
  churnRisk: { nullable: false, kind: 'number' },
  riskBand: { nullable: false, kind: 'string' },
  modelVersion: { nullable: false, kind: 'string' },
  emittedAt: { nullable: false, kind: 'number' },
  final: { nullable: false, kind: 'boolean' },
  closeReason: { nullable: true, kind: 'string' },
};

export const churnAlertFieldSpec: FieldSpec<ChurnAlert> = {
  alertId: { nullable: false, kind: 'string' },
  signalId: { nullable: false, kind: 'string' },
  sessionId: { nullable: false, kind: 'string' },
  userId: { nullable: true, kind: 'string' },
  churnRisk: { nullable: false, kind: 'number' },
  riskBand: { nullable: false, kind: 'string' },
  previousBand: { nullable: false, kind: 'string' },
  clusterId: { nullable: false, kind: 'number' },
  clusterLabel: { nullable: false, kind: 'string' },
  reason: { nullable: false, kind: 'string' },
  eventCount: { nullable: false, kind: 'number' },
  modelVersion: { nullable: false, kind: 'string' },
  emittedAt: { nullable: false, kind: 'number' },
};

export const CLICK_EVENT_FIELDS = Object.keys(clickEventFieldSpec) as (keyof ClickEvent)[];
export const JOURNEY_SIGNAL_FIELDS = Object.keys(journeySignalFieldSpec) as (keyof JourneySignal)[];
export const CHURN_ALERT_FIELDS = Object.keys(churnAlertFieldSpec) as (keyof ChurnAlert)[];
