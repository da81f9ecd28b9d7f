// Starts one real Kafka broker for the whole integration tier (unless KAFKA_BROKERS names an
// existing cluster) and hands its bootstrap address to the tests via `inject('kafkaBrokers')`.
import { type TestProject } from 'vitest/node';
import { startLocalKafka, type LocalKafkaHandle } from '../../src/local-kafka/local-kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

let broker: LocalKafkaHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    return;
  }
  const started = Date.now();
  broker = await startLocalKafka({ heap: '768m' });
  process.stderr.write(`[integration] local Kafka 3.9.1 at ${broker.bootstrap} (started in ${Date.now() - started} ms, pid ${broker.pid})\n`);
  project.provide('kafkaBrokers', broker.bootstrap);
}

export async function teardown(): Promise<void> {
  if (broker) {
    await broker.stop();
    process.stderr.write('[integration] local Kafka stopped\n');
  }
}
