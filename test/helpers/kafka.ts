// Helpers for integration tests against the real broker. Everything they open is closed by
// the returned cleanup, which tests register with onTestFinished so a failing test leaks nothing.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function testKafka(brokers: string): Kafka {
  return new Kafka({ clientId: uniqueName('test'), brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

export async function createTopics(kafka: Kafka, topics: string[], partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

export async function produce(kafka: Kafka, topic: string, messages: { key: string | null; value: string | Buffer | null }[]): Promise<void> {
  // idempotent: a request retried under load must not write the records twice (tests count offsets)
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface Collector {
  messages: KafkaMessage[];
  /** Resolves once `predicate` holds for the messages collected so far, or rejects after timeoutMs. */
  waitFor(predicate: (messages: KafkaMessage[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  stop(): Promise<void>;
}

/** Reads a topic from the beginning with a fresh group and collects every message. */
export async function collect(kafka: Kafka, topic: string, options: { readCommitted?: boolean } = {}): Promise<Collector> {
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('collector'), readUncommitted: !options.readCommitted, maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  return {
    messages,
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${messages.length} messages so far)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => consumer.disconnect(),
  };
}
