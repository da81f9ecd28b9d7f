// What flows between the stream stages and out of the sessionizer.
import { type ClickEvent } from '../contracts/records.ts';
import { type SessionClose, type SessionUpdate } from '../journey/session-view.ts';

/** One consumed record: the decoded event and where it came from (offset as Kafka gives it). */
export interface ClickEnvelope {
  event: ClickEvent;
  partition: number;
  /** The record's Kafka offset. */
  offset: bigint;
}

/** An event for a session that is already closed (or whose window the watermark has passed). */
export interface LateEvent {
  readonly kind: 'late';
  readonly envelope: ClickEnvelope;
  /** Why it was not sessionized: behind the watermark, or a timestamp that is not a number. */
  readonly reason: 'closed' | 'invalidTimestamp';
  /** The partition's watermark when it arrived. */
  readonly watermark: number;
}

/** An event whose eventId is already in its session's window; ignored, counted. */
export interface DuplicateEvent {
  readonly kind: 'duplicate';
  readonly envelope: ClickEnvelope;
}

/** Internal: a session changed; the micro-batcher turns these into one update per tick. */
export interface SessionChanged {
  readonly kind: 'changed';
  readonly slot: number;
  readonly generation: number;
  /**
   * Not an event of its own: the session was held (it waited for the earlier session of its key
   * to close) and may emit now. Absent for the change an event made.
   */
  readonly released?: true;
}

/** Output of `sessionize` (input of `microBatch`); its updates are quiet re-scores (`asQuiet`). */
export type SessionEvent = SessionChanged | SessionUpdate | SessionClose | LateEvent | DuplicateEvent;

/** Output of the sessionizer pipeline. */
export type SessionOutcome = SessionUpdate | SessionClose | LateEvent | DuplicateEvent;
