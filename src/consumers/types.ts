// Shared vocabulary of the ingestion core: input formats, timestamp units, and what `ingest`
// returns (its input, IngestRecord, and the dead-letter reasons are contracts: src/contracts/).
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type ClickEvent } from '../contracts/records.ts';

export const INPUT_FORMATS = ['json', 'avro', 'confluent'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export const TIMESTAMP_UNITS = ['ms', 's', 'iso'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/** What keys a session: its session id, or its user (cut by the inactivity gap). */
export const SESSION_KEYS = ['sessionId', 'userId'] as const;
export type SessionKey = (typeof SESSION_KEYS)[number];

/** Where an event without an eventId gets one (none: it is dead-lettered). */
export const EVENT_ID_FALLBACKS = ['none', 'offset', 'hash'] as const;
export type EventIdFallback = (typeof EVENT_ID_FALLBACKS)[number];

/** A rejection, carried from whichever step found it. */
export interface Rejection {
  ok: false;
  reason: DlqReason;
  message: string;
}

export type IngestResult =
  | { kind: 'event'; event: ClickEvent }
  /** Null value: counted and skipped, never dead-lettered (compacted-topic deletes). */
  | { kind: 'tombstone' }
  /** The consent field (ingestion.consent) does not grant analytics consent: counted, never sessionized nor dead-lettered. */
  | { kind: 'no_consent' }
  | { kind: 'dead'; reason: DlqReason; message: string };
