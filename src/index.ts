// The one public entry, the runtime API, as grouped `export *` lines. Training has its own entry,
// "journeylens/training" (src/training/index.ts).

// Errors and the shared contracts (Avro records, scorer contract, bundle format)
export * from './errors.ts';
export * from './contracts/index.ts';

// The processor and its configuration
export * from './processor/index.ts';
export * from './config.ts';

// Sources (Kafka consumer, ingestion) and sinks (Kafka producer, alerts, CRM webhook, dead letters)
export * from './consumers/index.ts';
export * from './sinks/index.ts';

// Live stream stages and journey images
export * from './streams/index.ts';
export * from './journey/index.ts';

// The model runtime: bundles, encoder, assignment, churn readout
export * from './model/index.ts';

// Operations: metrics, HTTP probes, logs
export * from './metrics.ts';
export * from './http.ts';
export * from './log.ts';
