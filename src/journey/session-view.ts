// A detached copy of one session's packed state, taken when a session is emitted (update at a
// tick, or its final close). It owns its few hundred bytes, so the store can keep changing or
// reuse the slot while the encoder is still busy with the batch.
import { type ImageSpec } from './image-spec.ts';
import { type PackedRows, rasterize } from './rasterize.ts';

/**
 * Why a session closed (the final signal's `closeReason`, schemas/journey-signal.avsc enum
 * journeylens.CloseReason, same symbols in the same order):
 * - gap: its partition's watermark passed last event + gap (or a later event of the same key
 *   came more than the gap after it);
 * - maxLength: it reached the maximum session length;
 * - idle: its partition received no event for the idle timeout and the wall clock is past its
 *   deadline (the watermark did not move);
 * - shutdown: the processor stopped (or the input ended);
 * - evicted: the session cap was reached and it was the least recently active session.
 */
export const CLOSE_REASONS = ['gap', 'maxLength', 'idle', 'shutdown', 'evicted'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface SessionFacts {
  sessionId: string;
  userId: string | null;
  /** Events accepted so far (duplicates excluded; events older than the window included). */
  eventCount: number;
  /** Time of the session's first event. */
  sessionStart: number;
  /** Time span of the image: first and last row (step, or bucket start/end in buckets mode). */
  windowStart: number;
  windowEnd: number;
  /** Id of the most recently accepted event: with the session id it names this update uniquely. */
  lastEventId: string;
  partition: number;
  /** Kafka offset of the earliest event of the session (-1 when none). */
  firstOffset: bigint;
  /** Kafka offset of the newest event that changed the session (-1 when none). */
  lastOffset: bigint;
}

export class SessionView implements SessionFacts {
  readonly sessionId: string;
  readonly userId: string | null;
  readonly eventCount: number;
  readonly sessionStart: number;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly lastEventId: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /**
   * The event time this view describes the session at: its last event (`windowEnd`) for an
   * update, the close time for a close, a quiet checkpoint for a quiet re-score. The time the
   * session has been quiet, asOf − windowEnd, is a churn-readout feature (readout-row.ts).
   */
  readonly asOf: number;
  readonly rows: PackedRows;
  readonly spec: ImageSpec;
  readonly #recent: readonly string[];

  constructor(facts: SessionFacts, rows: PackedRows, spec: ImageSpec, recentTypes: readonly string[]) {
    this.sessionId = facts.sessionId;
    this.userId = facts.userId;
    this.eventCount = facts.eventCount;
    this.sessionStart = facts.sessionStart;
    this.windowStart = facts.windowStart;
    this.windowEnd = facts.windowEnd;
    this.lastEventId = facts.lastEventId;
    this.partition = facts.partition;
    this.firstOffset = facts.firstOffset;
    this.lastOffset = facts.lastOffset;
    this.asOf = facts.windowEnd;
    this.rows = rows;
    this.spec = spec;
    this.#recent = recentTypes;
  }

  /** The journey image (H×W, row-major) written into `out` (a fresh array when omitted). */
  rasterize(out?: Float32Array): Float32Array {
    return rasterize(this.rows, this.spec, out);
  }

  /** The last `n` event types, oldest first: the steps an alert's "reason" can name. */
  recentTypes(n = 5): string[] {
    return this.#recent.slice(Math.max(0, this.#recent.length - n));
  }
}

export type SessionUpdate = SessionView & { readonly kind: 'update'; readonly tick: number };
export type SessionClose = SessionView & { readonly kind: 'close'; readonly reason: CloseReason };

export function asUpdate(view: SessionView, tick: number): SessionUpdate {
  return Object.assign(view, { kind: 'update' as const, tick });
}

/** `closedAt`: the event time the session ended at (its deadline; the last event when unknown). */
export function asClose(view: SessionView, reason: CloseReason, closedAt = view.windowEnd): SessionClose {
  return Object.assign(view, { kind: 'close' as const, reason, asOf: Math.max(view.windowEnd, closedAt) });
}

/**
 * A quiet re-score: the session has had no event since `windowEnd` and the watermark passed
 * the checkpoint `asOf`. It is an update (not final) whose only news is the silence.
 */
export function asQuiet(view: SessionView, asOf: number): SessionUpdate {
  return Object.assign(view, { kind: 'update' as const, tick: 0, asOf: Math.max(view.windowEnd, asOf) });
}

/** A quiet re-score: an update taken after the session's last event (asQuiet). */
export function isQuietRescore(view: SessionView & { readonly kind?: string }): boolean {
  return view.kind === 'update' && quietMs(view) > 0;
}

/** How long the session had been quiet when this view was taken (ms). */
export function quietMs(view: Pick<SessionView, 'asOf' | 'windowEnd'>): number {
  return Math.max(0, view.asOf - view.windowEnd);
}
