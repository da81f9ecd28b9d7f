// Dead letters: a record that cannot be used is produced to the DLQ topic with its original
// key, value and headers untouched, plus headers that say why and where it came from: ours
// (x-journeylens-*), and the same facts under Kafka Connect's names (__connect.errors.*), so DLQ
// tooling written for Connect's dead-letter queues reads journeylens' too.
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

/**
 * Kafka Connect's dead-letter context headers (org.apache.kafka.connect.runtime.errors.
 * DeadLetterQueueReporter, Kafka 4.x), which Connect writes as UTF-8 strings, numbers in decimal.
 * No stack trace header: a dead letter here is a verdict on the record, not an exception.
 */
export const CONNECT_DLQ_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  connectorName: '__connect.errors.connector.name',
  taskId: '__connect.errors.task.id',
  /** A Connect stage name: VALUE_CONVERTER, TRANSFORMATION, TASK_PUT… */
  stage: '__connect.errors.stage',
  /** What found the problem (Connect: the converter's or transform's class). */
  executingClass: '__connect.errors.class.name',
  /** Connect: the exception class; here `journeylens.<reason>`, one per DLQ reason. */
  exceptionClass: '__connect.errors.exception.class.name',
  exceptionMessage: '__connect.errors.exception.message',
} as const;

/** The prefix of every Connect error header (a record re-dead-lettered drops the old ones). */
export const CONNECT_DLQ_HEADER_PREFIX = '__connect.errors.';

/** What `__connect.errors.connector.name` says: journeylens plays the part of the connector. */
export const DLQ_CONNECTOR_NAME = 'journeylens';

type ConnectStage = 'VALUE_CONVERTER' | 'TRANSFORMATION' | 'TASK_PUT';

/** Where in Connect's terms each reason is found: decoding is a value converter, validation a transformation, the sessionizer the task. */
const STAGE: Record<DlqReason, { stage: ConnectStage; by: string }> = {
  empty_value: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.ingest' },
  too_large: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.ingest' },
  not_json: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  not_object: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  bad_magic_byte: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  unknown_schema_id: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  schema_incompatible: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  avro_decode_error: { stage: 'VALUE_CONVERTER', by: 'journeylens.consumers.decode' },
  missing_field: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  wrong_type: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  invalid_value: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  timestamp_future: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  timestamp_too_old: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  too_many_properties: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  string_too_long: { stage: 'TRANSFORMATION', by: 'journeylens.consumers.validate' },
  late_event: { stage: 'TASK_PUT', by: 'journeylens.streams.sessionize' },
  internal_error: { stage: 'TASK_PUT', by: 'journeylens.consumers.ingest' },
};

export const DLQ_MESSAGE_MAX_CHARS = 1000;

/** True for a header a dead letter gets from journeylens (ours or Connect's), i.e. not one of the original record's. */
export function isDeadLetterHeader(name: string): boolean {
  const n = name.toLowerCase();
  return OURS.has(n) || n.startsWith(CONNECT_DLQ_HEADER_PREFIX);
}

const OURS = new Set<string>(Object.values(DLQ_HEADERS));

/**
 * The kafkajs Message to produce to the DLQ topic for `record`. Original headers are kept as
 * they are, except dead-letter headers (a record re-consumed from a DLQ gets fresh ones). No
 * partition is set: the producer's partitioner places it by the original key.
 */
export function buildDeadLetter(record: IngestRecord, reason: DlqReason, message: string): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value !== undefined && !isDeadLetterHeader(name)) headers[name] = value;
  }
  const text = message.length > DLQ_MESSAGE_MAX_CHARS ? `${message.slice(0, DLQ_MESSAGE_MAX_CHARS - 1)}…` : message;
  const partition = String(record.partition);
  const offset = record.offset.toString();
  headers[DLQ_HEADERS.errorCode] = reason;
  headers[DLQ_HEADERS.errorMessage] = text;
  headers[DLQ_HEADERS.sourceTopic] = record.topic;
  headers[DLQ_HEADERS.sourcePartition] = partition;
  headers[DLQ_HEADERS.sourceOffset] = offset;
  if (record.timestamp !== undefined) headers[DLQ_HEADERS.sourceTimestamp] = record.timestamp;
  const { stage, by } = STAGE[reason];
  headers[CONNECT_DLQ_HEADERS.topic] = record.topic;
  headers[CONNECT_DLQ_HEADERS.partition] = partition;
  headers[CONNECT_DLQ_HEADERS.offset] = offset;
  headers[CONNECT_DLQ_HEADERS.connectorName] = DLQ_CONNECTOR_NAME;
  // Connect's task ids are integers; journeylens has one task per process, all alike.
  headers[CONNECT_DLQ_HEADERS.taskId] = '0';
  headers[CONNECT_DLQ_HEADERS.stage] = stage;
  headers[CONNECT_DLQ_HEADERS.executingClass] = by;
  headers[CONNECT_DLQ_HEADERS.exceptionClass] = `journeylens.${reason}`;
  headers[CONNECT_DLQ_HEADERS.exceptionMessage] = text;
  return { key: record.key, value: record.value, headers };
}
