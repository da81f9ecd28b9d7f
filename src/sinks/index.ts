// Outputs: the Kafka producer, alert policy and reason text, CRM webhook, dead letters. (Record types: src/contracts/.)
export * from './alert-policy.ts';
export * from './alert-reason.ts';
export * from './webhook.ts';
export * from './webhook-metrics.ts';
export * from './webhook-signature.ts';
export * from './kafka-sink.ts';
export * from './dead-letter.ts';
