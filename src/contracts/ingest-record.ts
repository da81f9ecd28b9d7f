// The record ingestion reads and a dead letter is built from: a Kafka record's bytes plus where
// it came from. The consumer fills it; ingestion and the dead-letter sink only read it.

/** Kafka record headers as the client hands them over (kafkajs's IHeaders). */
export type RecordHeaders = { [name: string]: Buffer | string | (Buffer | string)[] | undefined };

/** The parts of a Kafka record that ingestion reads (kafkajs's KafkaMessage plus where it came from). */
export interface IngestRecord {
  topic: string;
  partition: number;
  /** The record's offset (int64). */
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeaders;
  /** The record's Kafka timestamp (ms, as kafkajs gives it); only copied into a dead letter's headers. */
  timestamp?: string;
}
