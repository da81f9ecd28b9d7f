// The processor: startApp wires Kafka, ingestion, the sessionizer, the model and the sinks from a
// config; Processor is the record-to-signal loop itself; consumer lag feeds its metric.
export * from './app.ts';
export * from './processor.ts';
export * from './consumer-lag.ts';
export * from './checkpoint/topic-partition.ts';
