// Shared vocabulary of the ingestion core: input formats, timestamp units, dead-letter reasons,
// and what `ingest` takes and returns.
import { type IHeaders } from 'kafkajs';
import { type ClickEvent } from '../contracts.ts';

export const INPUT_FORMATS = ['json', 'avro', 'confluent'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export const TIMESTAMP_UNITS = ['ms', 's', 'iso'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/**
 * Why a record went to the dead-letter topic. The value of the `x-journeylens-error-code`
 * header and the `reason` label of the dead-letter counter; a closed list so dashboards and
 * alerts can enumerate it.
 */
export const DLQ_REASONS = [
  /** Non-null value with zero bytes. */
  'empty_value',
  /** Value larger than input.limits.maxMessageBytes. */
  'too_large',
  /** JSON format: not UTF-8, or not parseable as JSON. */
  'not_json',
  /** Decoded value is not an object (JSON array, string, number, null). */
  'not_object',
  /** Confluent format: first byte is not 0. */
  'bad_magic_byte',
  /** Confluent format: schema id has no configured writer schema. */
  'unknown_schema_id',
  /** Avro body does not match the writer schema (truncated, trailing bytes, impossible lengths). */
  'avro_decode_error',
  /** A required field is absent, null or empty. */
  'missing_field',
  /** A field has the wrong type (an object for sessionId, a string for a timestamp in ms). */
  'wrong_type',
  /** A field has the right type but an impossible value (negative duration, invalid date, non-finite number). */
  'invalid_value',
  /** Event time later than now + input.timestamps.maxFutureSkewMs. */
  'timestamp_future',
  /** Event time before input.timestamps.notBefore or older than input.timestamps.maxAgeMs. */
  'timestamp_too_old',
  /** More than input.limits.maxProperties properties. */
  'too_many_properties',
  /** A string field, property key or property value longer than input.limits.maxStringLength. */
  'string_too_long',
  /** Event for a session that is already closed (raised by the sessionizer, not by ingest). */
  'late_event',
  /** A bug: ingest caught an exception it did not expect. The record is kept, not lost. */
  'internal_error',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

/** A rejection, carried from whichever step found it. */
export interface Rejection {
  ok: false;
  reason: DlqReason;
  message: string;
}

/** The parts of a Kafka record that ingestion reads (kafkajs's KafkaMessage plus where it came from). */
export interface IngestRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  /** The record's Kafka timestamp (ms, as kafkajs gives it); only copied into a dead letter's headers. */
  timestamp?: string;
}

export type IngestResult =
  | { kind: 'event'; event: ClickEvent }
  /** Null value: counted and skipped, never dead-lettered (compacted-topic deletes). */
  | { kind: 'tombstone' }
  | { kind: 'dead'; reason: DlqReason; message: string };
