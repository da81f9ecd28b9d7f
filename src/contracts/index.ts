// The shared contracts, a leaf module: the Avro record types and their schema loader, the
// scorer contract, the ingest record and dead-letter reasons, and the model bundle's format.
export * from './bundle-format.ts';
export * from './dead-letters.ts';
export * from './ingest-record.ts';
export * from './records.ts';
export * from './schemas.ts';
export * from './scorer.ts';
