// Shared by the broker benchmarks (the leading underscore keeps bench/run.mjs from running it):
// an owned local broker, topics, a cheap synthetic clickstream, the processor started in-process
// and the consume-only baselines. Every benchmark stops what it started, broker included.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Consumer as PlatformaticConsumer } from '@platformatic/kafka';
import { type App, startApp } from '../src/processor/app.ts';
import { resolveConfig, runOptions } from '../src/config.ts';
import { type JourneySignal } from '../src/contracts/records.ts';
import { createLogger } from '../src/log.ts';
import { defaultImageSpec } from '../src/journey/image-spec.ts';
import { type LocalKafkaHandle, startLocalKafka } from '../src/local-kafka/local-kafka.ts';
import { KafkaSink, type OutRecord } from '../src/sinks/kafka-sink.ts';
import { PlatformaticSink } from '../src/sinks/platformatic-sink.ts';

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** Starts an owned broker and stops it on exit, on a signal or on a thrown error. */
export async function withBroker<T>(body: (broker: LocalKafkaHandle, kafka: Kafka) => Promise<T>): Promise<T> {
  const broker = await startLocalKafka({ heap: '768m' });
  const stop = () => broker.stop().catch(() => undefined);
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const kafka = new Kafka({ clientId: uniqueName('bench'), brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    return await body(broker, kafka);
  } finally {
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Creates the topic and waits until every partition has a leader. Retried: kafkajs's leader wait
 * retries LEADER_NOT_AVAILABLE only, and a broker at load 8 on 2 cores answered it with
 * UNKNOWN_TOPIC_OR_PARTITION (retriable) for a topic it was still creating, which ended a
 * latency run at its 13th phase.
 */
export async function createTopic(kafka: Kafka, topic: string, partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const led = topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
        if (led >= partitions) return;
        throw Object.assign(new Error(`topic ${topic}: ${led} of ${partitions} partitions have a leader`), { retriable: true });
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable !== true || attempt >= 8) throw err;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

const types = defaultImageSpec.eventTypes;

export interface ClickRecord {
  key: string;
  value: string;
}

export function clickRecord(session: number, k: number, timestamp: number, runId: string): ClickRecord {
  const sessionId = `${runId}-s${session}`;
  return {
    key: sessionId,
    value: JSON.stringify({
      eventId: `${sessionId}-e${k}`,
      sessionId,
      userId: `u${session % 50_000}`,
      timestamp,
      type: types[(session * 7 + k * 3) % types.length],
      page: `/p/${(session + k) % 40}`,
      durationMs: 500 + ((session * 31 + k * 17) % 30_000),
      value: k % 7 === 6 ? 19.99 : null,
      properties: {},
    }),
  };
}

/**
 * A clickstream in event-time order: session i starts at t0 + i·2 s and has `perSession` events
 * 20 s apart, so about (perSession·20 s + 30 min gap) / 2 s sessions are open at once and the
 * rest close as the watermark moves on, as in production.
 */
export function* flowingClicks(events: number, perSession: number, runId: string, t0 = Date.UTC(2026, 10, 1)): Generator<ClickRecord> {
  const sessions = Math.ceil(events / perSession);
  let n = 0;
  for (let slot = 0; n < events; slot++) {
    for (let k = 0; k < perSession && n < events; k++) {
      const i = slot - 10 * k;
      if (i < 0 || i >= sessions) continue;
      yield clickRecord(i, k, t0 + i * 2000 + k * 20_000, runId);
      n++;
    }
  }
}

/** `sessions` sessions with `perSession` events each, all inside a few minutes: none closes. */
export function* openSessionClicks(sessions: number, perSession: number, runId: string, t0 = Date.UTC(2026, 10, 1)): Generator<ClickRecord> {
  for (let k = 0; k < perSession; k++) for (let i = 0; i < sessions; i++) yield clickRecord(i, k, t0 + k * 60_000 + (i % 1000), runId);
}

/**
 * Produces the records in batches, one request at a time: overlapping sends reorder batches
 * within a partition (measured: 25% of records behind an earlier timestamp), which the
 * processor then rightly drops as late.
 */
export async function produceAll(kafka: Kafka, topic: string, records: Iterable<ClickRecord>): Promise<{ records: number; seconds: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = performance.now();
  let n = 0;
  try {
    let batch: ClickRecord[] = [];
    for (const r of records) {
      batch.push(r);
      n++;
      if (batch.length === 5000) {
        await producer.send({ topic, acks: 1, messages: batch });
        batch = [];
      }
    }
    if (batch.length > 0) await producer.send({ topic, acks: 1, messages: batch });
  } finally {
    await producer.disconnect();
  }
  return { records: n, seconds: (performance.now() - t0) / 1000 };
}

export interface RunFigures {
  /** From the start call to the last record counted. */
  totalSeconds: number;
  /** From the first record seen to the last: the steady rate, without join and model load. */
  steadySeconds: number;
  eventsPerSecond: number;
  eventsPerSecondWithStartup: number;
}

function figures(n: number, started: number, first: number, last: number): RunFigures {
  const totalSeconds = (last - started) / 1000;
  const steadySeconds = (last - first) / 1000;
  return {
    totalSeconds: +totalSeconds.toFixed(3),
    steadySeconds: +steadySeconds.toFixed(3),
    eventsPerSecond: Math.round(n / steadySeconds),
    eventsPerSecondWithStartup: Math.round(n / totalSeconds),
  };
}

async function until(predicate: () => boolean, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Raw kafkajs consume-only: a fresh group reads the topic from the beginning and counts. */
export async function kafkajsConsume(bootstrap: string, topic: string, expected: number, timeoutMs: number): Promise<RunFigures> {
  const kafka = new Kafka({ clientId: uniqueName('raw'), brokers: [bootstrap], logLevel: logLevel.NOTHING });
  // The same fetch settings as the processor's KafkajsSource, so only the work per record differs.
  const consumer = kafka.consumer({ groupId: uniqueName('raw'), sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 250 });
  const started = performance.now();
  let first = 0;
  let last = 0;
  let n = 0;
  let bytes = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (n === 0) first = performance.now();
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        n += batch.messages.length;
        if (n >= expected && last === 0) last = performance.now();
      },
    });
    await until(() => n >= expected, timeoutMs, `kafkajs to consume ${expected} records (${n} so far)`);
  } finally {
    await consumer.disconnect();
  }
  if (bytes === 0) throw new Error('kafkajs consumed no bytes');
  return figures(n, started, first, last);
}

/** @platformatic/kafka consume-only: a fresh group, earliest offsets, Buffers, counts records. */
export async function platformaticConsume(bootstrap: string, topic: string, expected: number, timeoutMs: number): Promise<RunFigures> {
  const consumer = new PlatformaticConsumer({ groupId: uniqueName('plt'), clientId: uniqueName('plt'), bootstrapBrokers: [bootstrap], maxWaitTime: 250 });
  const started = performance.now();
  let first = 0;
  let last = 0;
  let n = 0;
  let bytes = 0;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
    stream.on('data', (m: { value: Buffer | undefined }) => {
      if (n === 0) first = performance.now();
      bytes += m.value?.length ?? 0;
      n++;
      if (n === expected) last = performance.now();
    });
    await until(() => n >= expected, timeoutMs, `@platformatic/kafka to consume ${expected} records (${n} so far)`);
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  if (bytes === 0) throw new Error('@platformatic/kafka consumed no bytes');
  return figures(n, started, first, last);
}

export type PassthroughProducer = 'kafkajs' | 'platformatic';

export interface Passthrough {
  /** Records consumed, produced (acknowledged) and committed so far. */
  readonly stats: { consumed: number; produced: number; batches: number };
  firstRecordAt(): number;
  stop(): Promise<void>;
}

/**
 * The transport limit of any 1:1 stream processor in Node: a kafkajs consumer with the
 * processor's fetch and commit settings (KafkajsSource: eachBatch, one partition at a time, no
 * auto-commit, maxWaitTimeInMs 250) that produces one small record per input record (same key,
 * so the same partitions), waits for the broker's ack (acks=all, idempotent, as KafkaSink), then
 * commits the batch. `producer` picks the client that produces: kafkajs (KafkaSink, the
 * processor's producer in exactly-once mode) or @platformatic/kafka (PlatformaticSink, its
 * producer otherwise). `onAcked` sees each acknowledged batch's input records.
 */
export async function startPassthrough(
  bootstrap: string,
  options: { input: string; output: string; producer: PassthroughProducer; onAcked?: (values: (Buffer | null)[]) => void },
): Promise<Passthrough> {
  await createTopic(new Kafka({ clientId: uniqueName('admin'), brokers: [bootstrap], logLevel: logLevel.NOTHING }), options.output, 3);
  const kafka = new Kafka({ clientId: uniqueName('pass'), brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('pass'), sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 250 });
  let send: (records: OutRecord[]) => Promise<void>;
  let close: () => Promise<void>;
  if (options.producer === 'kafkajs') {
    const sink = new KafkaSink(kafka);
    await sink.connect();
    send = (records) => sink.send(records);
    close = () => sink.disconnect();
  } else {
    const sink = new PlatformaticSink({ clientId: uniqueName('pass-plt'), bootstrapBrokers: [bootstrap] });
    await sink.connect();
    send = (records) => sink.send(records);
    close = () => sink.disconnect();
  }
  const stats = { consumed: 0, produced: 0, batches: 0 };
  let first = 0;
  const value = Buffer.alloc(32, 1);
  await consumer.connect();
  await consumer.subscribe({ topic: options.input, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return;
      if (first === 0) first = performance.now();
      stats.consumed += batch.messages.length;
      await send(batch.messages.map((m) => ({ topic: options.output, key: m.key?.toString('utf8') ?? '', value })));
      const last = batch.messages[batch.messages.length - 1]!.offset;
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      stats.produced += batch.messages.length;
      stats.batches++;
      options.onAcked?.(batch.messages.map((m) => m.value));
      await heartbeat();
    },
  });
  return {
    stats,
    firstRecordAt: () => first,
    async stop() {
      await consumer.disconnect();
      await close();
    },
  };
}

/** The passthrough on a pre-filled topic: its rate from the first record to the last acknowledged one. */
export async function passthroughConsume(bootstrap: string, topic: string, expected: number, timeoutMs: number, producer: PassthroughProducer): Promise<RunFigures> {
  const started = performance.now();
  const run = await startPassthrough(bootstrap, { input: topic, output: uniqueName('pass-out'), producer });
  try {
    await until(() => run.stats.produced >= expected, timeoutMs, `the ${producer} passthrough to pass ${expected} records on (${run.stats.produced} so far)`, 2);
    return figures(expected, started, run.firstRecordAt(), performance.now());
  } finally {
    await run.stop();
  }
}

export interface ProcessorRun {
  app: App;
  startedAt: number;
  firstRecordAt: () => number;
  firstSignalAt: () => number;
  signals: () => number;
}

/** The processor with the default bundle, in-process, as `journeylens run` starts it. */
export async function startProcessor(
  bootstrap: string,
  options: { input: string; signals: string; group?: string; onSignal?: (s: JourneySignal) => void; extra?: Record<string, string>; producer?: PassthroughProducer },
): Promise<ProcessorRun> {
  const flags = {
    brokers: bootstrap,
    input: options.input,
    signalsTopic: options.signals,
    group: options.group ?? uniqueName('jl'),
    metricsPort: '0',
    metricsHost: '127.0.0.1',
    logLevel: 'error',
    ...options.extra,
  };
  // KafkaSink produces with allowAutoTopicCreation: false, and a missing signals topic stalls
  // the first tick for good (no error, no signal), so the topic is created up front.
  await createTopic(new Kafka({ clientId: uniqueName('admin'), brokers: [bootstrap], logLevel: logLevel.NOTHING }), options.signals, 3);
  let firstSignal = 0;
  let signals = 0;
  const startedAt = performance.now();
  const app = await startApp(resolveConfig(runOptions, flags, {}), {
    flags,
    log: createLogger({ level: 'error' }),
    // the kafkajs producer the processor had before @platformatic/kafka's (a baseline in the same run)
    ...(options.producer === 'kafkajs' ? { sink: () => new KafkaSink(new Kafka({ clientId: uniqueName('jl-kafkajs'), brokers: [bootstrap], logLevel: logLevel.NOTHING })) } : {}),
    onSignal: (s) => {
      if (signals++ === 0) firstSignal = performance.now();
      options.onSignal?.(s);
    },
  });
  let firstRecord = 0;
  const poll = setInterval(() => {
    if (firstRecord === 0 && app.processor.stats.records > 0) {
      firstRecord = performance.now();
      clearInterval(poll);
    }
  }, 2);
  void app.done.finally(() => clearInterval(poll)).catch(() => undefined);
  return { app, startedAt, firstRecordAt: () => firstRecord, firstSignalAt: () => firstSignal, signals: () => signals };
}

/** Runs the processor until the ticks of `expected` events were delivered (signals acknowledged); returns its rate. */
export async function processorConsume(
  bootstrap: string,
  topic: string,
  expected: number,
  timeoutMs: number,
  extra: Record<string, string> = {},
  producer: PassthroughProducer = 'platformatic',
): Promise<RunFigures & { signals: number; late: number; dead: number; activeSessionsAtEnd: number; ticks: number; deliveries: number; mainThreadUtilisation: number }> {
  const run = await startProcessor(bootstrap, { input: topic, signals: uniqueName('signals'), extra, producer });
  try {
    const s = run.app.processor.stats;
    await until(() => s.records > 0, timeoutMs, 'the first record', 2);
    const elu0 = performance.eventLoopUtilization();
    await until(() => s.delivered >= expected, timeoutMs, `the processor to deliver ${expected} events (${s.delivered} so far)`, 2);
    const last = performance.now();
    const elu = performance.eventLoopUtilization(elu0);
    return {
      ...figures(expected, run.startedAt, run.firstRecordAt(), last),
      signals: s.signals,
      late: s.late,
      dead: s.dead,
      activeSessionsAtEnd: run.app.processor.activeSessions,
      ticks: s.ticks,
      deliveries: s.deliveries,
      mainThreadUtilisation: +elu.utilization.toFixed(3),
    };
  } finally {
    await run.app.stop();
  }
}

export { until };
