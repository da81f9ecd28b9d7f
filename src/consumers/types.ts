// Shared vocabulary of the ingestion core: input formats, timestamp units, and what `ingest`
// returns (its input, IngestRecord, and the dead-letter reasons are contracts: src/contracts/).
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type ClickEvent } from '../contracts/records.ts';

export const INPUT_FORMATS = ['json', 'avro', 'confluent'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export const TIMESTAMP_UNITS = ['ms', 's', 'iso'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

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
  | { kind: 'dead'; reason: DlqReason; message: string };
