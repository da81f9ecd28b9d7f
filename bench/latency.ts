// Event-to-signal latency of the processor (default bundle and settings, tick 250 ms) under an
// open-loop producer at 25%, 50% and 75% of the maximum throughput measured first in the same
// run. Each event is stamped with the wall-clock time it is handed to the producer (in a worker
// thread, so a busy processor cannot hold the producer back); latency is taken when the
// processor's onSignal hook fires, which is after the signal was acknowledged by the broker and
// the tick's offsets committed: ack time − the signal's windowEnd (its newest event's stamp).
// Baseline, same run: raw kafkajs produce→consume latency at the 50% rate (transport only).
//
//   node --expose-gc --import tsx bench/latency.ts [--quick]
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { defaultImageSpec } from '../src/journey/image-spec.ts';
import { createTopic, flowingClicks, log, processorConsume, produceAll, startProcessor, uniqueName, until, withBroker } from './_kafka.ts';

const quick = process.argv.includes('--quick');
const prefill = quick ? 40_000 : 300_000;
const phaseMs = quick ? 12_000 : 30_000;
const stopTimeoutMs = 60_000;
const warmupMs = quick ? 2_000 : 5_000;
const sessions = 20_000;
const loads = [0.25, 0.5, 0.75];
const targetP99Ms = 250;

interface Summary {
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

function summarise(samples: number[]): Summary {
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN);
  return { samples: s.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: Math.round(s[s.length - 1] ?? NaN) };
}

function openLoop(bootstrap: string, topic: string, rate: number, durationMs: number): Promise<{ sent: number; failed: number; seconds: number }> {
  const worker = new Worker(new URL('./_open-loop-producer.mjs', import.meta.url), {
    workerData: { brokers: [bootstrap], topic, rate, durationMs, sessions, runId: uniqueName('ol'), eventTypes: defaultImageSpec.eventTypes },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`open-loop producer exited with ${code}`))));
  });
}

const result = await withBroker(async (broker, kafka) => {
  // 1. Maximum throughput on a pre-filled topic.
  const fillTopic = uniqueName('fill');
  await createTopic(kafka, fillTopic, 3);
  await produceAll(kafka, fillTopic, flowingClicks(prefill, 10, uniqueName('r')));
  const max = await processorConsume(broker.bootstrap, fillTopic, prefill, 600_000);
  log(`latency: max throughput ${max.eventsPerSecond} events/s`);

  // 2. Baseline: kafkajs produce→consume at the 50% rate.
  const baseRate = Math.round(max.eventsPerSecond * 0.5);
  const baseTopic = uniqueName('base');
  await createTopic(kafka, baseTopic, 3);
  const raw = new Kafka({ clientId: uniqueName('raw'), brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = raw.consumer({ groupId: uniqueName('raw'), maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic: baseTopic, fromBeginning: true });
  const baseSamples: number[] = [];
  let baseStart = 0;
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const ts = (JSON.parse(message.value!.toString('utf8')) as { timestamp: number }).timestamp;
      if (ts >= baseStart + warmupMs) baseSamples.push(Date.now() - ts);
    },
  });
  await until(() => joined, 30_000, 'the baseline consumer to join');
  baseStart = Date.now();
  const baseSent = await openLoop(broker.bootstrap, baseTopic, baseRate, phaseMs);
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.disconnect();
  const baseline = { load: 0.5, rate: baseRate, sent: baseSent.sent, ...summarise(baseSamples) };
  log(`latency: kafkajs baseline p50 ${baseline.p50Ms} ms p99 ${baseline.p99Ms} ms`);

  // 3. The processor under open-loop load.
  const phases = [];
  for (const load of loads) {
    const rate = Math.round(max.eventsPerSecond * load);
    const topic = uniqueName('live');
    await createTopic(kafka, topic, 3);
    const samples: number[] = [];
    let phaseStart = Number.POSITIVE_INFINITY;
    const run = await startProcessor(broker.bootstrap, {
      input: topic,
      signals: uniqueName('signals'),
      onSignal: (s) => {
        if (s.windowEnd >= phaseStart + warmupMs) samples.push(Date.now() - s.windowEnd);
      },
    });
    let ready = false;
    const phasesBefore = phases.length;
    try {
      await until(() => {
        void fetch(`${run.app.ops.url}/readyz`).then((r) => (ready = r.status === 200)).catch(() => undefined);
        return ready;
      }, 30_000, 'the processor to be ready', 200);
      phaseStart = Date.now();
      const sent = await openLoop(broker.bootstrap, topic, rate, phaseMs);
      const s = run.app.processor.stats;
      // Let the last ticks land (or show the backlog if it cannot keep up).
      await until(() => s.processed >= sent.sent, 15_000, 'the processor to catch up').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 600));
      phases.push({ load, targetRate: rate, sent: sent.sent, achievedRate: Math.round(sent.sent / sent.seconds), processed: s.processed, caughtUp: s.processed >= sent.sent, signals: s.signals, ...summarise(samples) });
      log(`latency: load ${load} (${rate}/s) p50 ${phases.at(-1)!.p50Ms} ms p99 ${phases.at(-1)!.p99Ms} ms`);
    } finally {
      // An overloaded phase can hold tens of thousands of records in flight, all drained by a
      // graceful stop: bounded, and reported, so one phase cannot hold the whole run.
      const t = performance.now();
      const stopped = await Promise.race([run.app.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), stopTimeoutMs).unref())]);
      const last = phases.length > phasesBefore ? phases.at(-1) : undefined;
      if (last) Object.assign(last, { stopSeconds: +((performance.now() - t) / 1000).toFixed(1), stoppedGracefully: stopped });
    }
  }
  return { max, baseline, phases };
});

const half = result.phases.find((p) => p.load === 0.5)!;
process.stdout.write(
  `${JSON.stringify({
    bench: 'latency',
    quick,
    tickMs: 250,
    sessions,
    phaseSeconds: phaseMs / 1000,
    warmupSeconds: warmupMs / 1000,
    maxThroughput: { events: prefill, eventsPerSecond: result.max.eventsPerSecond, signals: result.max.signals, signalsPerSecond: Math.round(result.max.signals / result.max.steadySeconds) },
    phases: result.phases,
    baselines: { kafkajsProduceToConsumeAt50: result.baseline },
    target: { p99MsAt50AtMost: targetP99Ms },
    meetsTarget: half.p99Ms <= targetP99Ms,
  })}\n`,
  // A processor whose graceful stop timed out may still hold sockets open.
  () => process.exit(0),
);
