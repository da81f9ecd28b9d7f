// Dead letters: a record that cannot be used is produced to the DLQ topic with its original
// key, value and headers untouched, plus headers that say why and where it came from.
import { type IHeaders, type Message } from 'kafkajs';
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type IngestRecord } from '../contracts/ingest-record.ts';

/** The headers journeylens adds to a dead letter (all values UTF-8 strings). */
export const DLQ_HEADERS = {
  /** One of DLQ_REASONS, e.g. `not_json`. */
  errorCode: 'x-journeylens-error-code',
  /** Human-readable detail, at most DLQ_MESSAGE_MAX_CHARS characters. */
  errorMessage: 'x-journeylens-error-message',
  sourceTopic: 'x-journeylens-source-topic',
  sourcePartition: 'x-journeylens-source-partition',
  /** Decimal offset of the original record in its partition. */
  sourceOffset: 'x-journeylens-source-offset',
  /** The original record's Kafka timestamp (ms), when known. The dead letter itself gets a fresh one, so DLQ retention counts from when it failed. */
  sourceTimestamp: 'x-journeylens-source-timestamp',
} as const;

export const DLQ_MESSAGE_MAX_CHARS = 1000;

/**
 * The kafkajs Message to produce to the DLQ topic for `record`. Original headers are kept
 * as they are, except those named in DLQ_HEADERS (a record re-consumed from a DLQ gets fresh
 * ones). No partition is set: the producer's partitioner places it by the original key.
 */
export function buildDeadLetter(record: IngestRecord, reason: DlqReason, message: string): Message {
  const ours = new Set<string>(Object.values(DLQ_HEADERS));
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value !== undefined && !ours.has(name.toLowerCase())) headers[name] = value;
  }
  headers[DLQ_HEADERS.errorCode] = reason;
  headers[DLQ_HEADERS.errorMessage] = message.length > DLQ_MESSAGE_MAX_CHARS ? `${message.slice(0, DLQ_MESSAGE_MAX_CHARS - 1)}…` : message;
  headers[DLQ_HEADERS.sourceTopic] = record.topic;
  headers[DLQ_HEADERS.sourcePartition] = String(record.partition);
  headers[DLQ_HEADERS.sourceOffset] = record.offset.toString();
  if (record.timestamp !== undefined) headers[DLQ_HEADERS.sourceTimestamp] = record.timestamp;
  return { key: record.key, value: record.value, headers };
}
