// Sources: the Kafka consumer and client, and ingestion (decoding, field mapping, validation, the per-record `ingest` call).
export * from './types.ts';
export * from './options.ts';
export * from './field-mapping.ts';
export * from './validate.ts';
export * from './decode.ts';
export * from './avro-guard.ts';
export * from './ingest.ts';
export * from './source.ts';
export * from './kafka-client.ts';
