// The processor's producers on the real broker: @platformatic/kafka's (PlatformaticSink, every
// mode but --exactly-once) puts each key on the partition the kafkajs producer (KafkaSink) puts
// it on, so downstream readers keyed on session or user see no change; headers and keyless
// records arrive; sends made at once (ticks beside the webhook's delivered marks) all land,
// once each and in call order.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { KafkaSink, type OutRecord } from '../../src/sinks/kafka-sink.ts';
import { PlatformaticSink } from '../../src/sinks/platformatic-sink.ts';
import { type Kafka } from 'kafkajs';
import { createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');

interface Read {
  key: string | null;
  value: string | undefined;
  partition: number;
  header: string | undefined;
}

/** Reads a topic from the beginning until `count` records arrived: key, value, partition, the test header. */
async function readAll(kafka: Kafka, topic: string, count: number): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('read'), maxWaitTimeInMs: 100 });
  const out: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({ key: message.key?.toString() ?? null, value: message.value?.toString(), partition, header: message.headers?.['x-journeylens-test']?.toString() });
      },
    });
    const deadline = Date.now() + 60_000;
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}: ${out.length} of ${count} records`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // anything more (a record written twice) shows up within a few fetches
    await new Promise((r) => setTimeout(r, 500));
    return out;
  } finally {
    await consumer.disconnect();
  }
}

describe('the processor producers (real broker)', () => {
  it('PlatformaticSink puts every key on the partition KafkaSink puts it on', async () => {
    const kafka = testKafka(brokers);
    const [viaKafkajs, viaPlatformatic] = [uniqueName('keys-kafkajs'), uniqueName('keys-plt')];
    await createTopics(kafka, [viaKafkajs, viaPlatformatic], 6);
    const keys = [...Array.from({ length: 600 }, () => randomBytes(1 + Math.floor(Math.random() * 36)).toString('hex')), ...Array.from({ length: 200 }, (_, i) => `session-${i}`), 'ünïcødé'];
    const records = (topic: string): OutRecord[] => keys.map((key) => ({ topic, key, value: key, headers: { 'x-journeylens-test': 'h1' } }));

    const kafkajsSink = new KafkaSink(kafka);
    const sink = new PlatformaticSink({ clientId: uniqueName('plt'), bootstrapBrokers: brokers.split(',') });
    onTestFinished(() => kafkajsSink.disconnect());
    onTestFinished(() => sink.disconnect());
    await kafkajsSink.connect();
    await sink.connect();
    await kafkajsSink.send(records(viaKafkajs));
    await sink.send([...records(viaPlatformatic), ...Array.from({ length: 30 }, (_, i): OutRecord => ({ topic: viaPlatformatic, key: null, value: `keyless-${i}` }))]);

    const a = await readAll(kafka, viaKafkajs, keys.length);
    const b = await readAll(kafka, viaPlatformatic, keys.length + 30);
    const partitionOf = (read: Read[]) => new Map(read.filter((m) => m.key !== null).map((m) => [m.key as string, m.partition]));
    const expected = partitionOf(a);
    const got = partitionOf(b);
    expect(got.size).toBe(new Set(keys).size);
    const moved = [...got].filter(([key, p]) => expected.get(key) !== p);
    expect(moved, `keys on another partition than kafkajs put them on: ${moved.slice(0, 5).join('; ')}`).toEqual([]);
    // every partition is used, so the comparison covers them all
    expect(new Set(expected.values()).size).toBe(6);
    const keyless = b.filter((m) => m.key === null);
    expect(keyless.map((m) => m.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `keyless-${i}`).sort());
    expect(new Set(keyless.map((m) => m.partition)).size).toBe(6);
    expect(b.filter((m) => m.key !== null).every((m) => m.header === 'h1' && m.value === m.key)).toBe(true);
    expect(b).toHaveLength(keys.length + 30);
  });

  it('sends made at once all land, once each, in the order they were made', async () => {
    const kafka = testKafka(brokers);
    const topic = uniqueName('concurrent');
    await createTopics(kafka, [topic], 1);
    const sink = new PlatformaticSink({ clientId: uniqueName('plt'), bootstrapBrokers: brokers.split(',') });
    onTestFinished(() => sink.disconnect());
    await sink.connect();
    await Promise.all(Array.from({ length: 40 }, (_, i) => sink.send(Array.from({ length: 1 + (i % 5) }, (_, j) => ({ topic, key: 's-1', value: `${i}.${j}` })))));
    const expected = Array.from({ length: 40 }, (_, i) => Array.from({ length: 1 + (i % 5) }, (_, j) => `${i}.${j}`)).flat();
    const out = await readAll(kafka, topic, expected.length);
    expect(out.map((m) => m.value)).toEqual(expected);
  });
});
