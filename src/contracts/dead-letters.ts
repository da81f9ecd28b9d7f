// Why a record became a dead letter: a closed list shared by ingestion (which finds most of the
// reasons), the sessionizer (late events) and the dead-letter sink (which writes it as a header).

/**
 * Why a record went to the dead-letter topic. The value of the `x-journeylens-error-code`
 * header and the `reason` label of the dead-letter counter; a closed list so dashboards and
 * alerts can enumerate it.
 */
export const DLQ_REASONS = [
  /** Non-null value with zero bytes. */
  'empty_value',
  /** Value larger than ingestion.limits.maxMessageBytes. */
  'too_large',
  /** JSON format: not UTF-8, or not parseable as JSON. */
  'not_json',
  /** Decoded value is not an object (JSON array, string, number, null). */
  'not_object',
  /** Confluent format: first byte is not 0. */
  'bad_magic_byte',
  /** Confluent format: neither input.schemas nor the schema registry (when configured) knows the schema id. */
  'unknown_schema_id',
  /** Confluent format: the registry's writer schema for the id cannot be read as journeylens.ClickEvent (Avro resolution fails); the message names the id and the field. */
  'schema_incompatible',
  /** Avro body does not match the writer schema (truncated, trailing bytes, impossible lengths). */
  'avro_decode_error',
  /** A required field is absent, null or empty. */
  'missing_field',
  /** A field has the wrong type (an object for sessionId, a string for a timestamp in ms). */
  'wrong_type',
  /** A field has the right type but an impossible value (negative duration, invalid date, non-finite number). */
  'invalid_value',
  /** Event time later than now + ingestion.timestamps.maxFutureSkewMs. */
  'timestamp_future',
  /** Event time before ingestion.timestamps.notBefore or older than ingestion.timestamps.maxAgeMs. */
  'timestamp_too_old',
  /** More than ingestion.limits.maxProperties properties. */
  'too_many_properties',
  /** A string field, property key or property value longer than ingestion.limits.maxStringLength. */
  'string_too_long',
  /** Event for a session that is already closed (raised by the sessionizer, not by ingest). */
  'late_event',
  /** A bug: ingest caught an exception it did not expect. The record is kept, not lost. */
  'internal_error',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];
