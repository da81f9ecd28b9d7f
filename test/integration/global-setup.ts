// Starts one real Kafka broker for the whole integration tier (unless KAFKA_BROKERS names an
// existing cluster) and hands its bootstrap address to the tests via `inject('kafkaBrokers')`.
// JOURNEYLENS_KAFKA=kafka4 picks the pinned Kafka 4.x broker (`npm run test:kafka4`) instead of
// the default 3.9.1.
import { type TestProject } from 'vitest/node';
import { KAFKA_DISTRIBUTIONS, type KafkaDistribution, kafkaVersion, startLocalKafka, type LocalKafkaHandle } from '../../src/local-kafka/local-kafka.ts';

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
  const distribution = (process.env.JOURNEYLENS_KAFKA ?? 'kafka') as KafkaDistribution;
  if (!KAFKA_DISTRIBUTIONS.includes(distribution)) throw new Error(`JOURNEYLENS_KAFKA must be one of ${KAFKA_DISTRIBUTIONS.join(', ')}, got "${distribution}".`);
  const started = Date.now();
  broker = await startLocalKafka({ heap: '768m', distribution });
  process.stderr.write(`[integration] local Kafka ${kafkaVersion(distribution)} at ${broker.bootstrap} (started in ${Date.now() - started} ms, pid ${broker.pid})\n`);
  project.provide('kafkaBrokers', broker.bootstrap);
}

export async function teardown(): Promise<void> {
  if (broker) {
    await broker.stop();
    process.stderr.write('[integration] local Kafka stopped\n');
  }
}
