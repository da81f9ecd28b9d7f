// Open-loop producer for bench/latency.ts, in a worker thread so a busy processor on the main
// thread cannot delay (and so hide) the events it should be measured against. Every 5 ms it
// sends whatever the target rate says is due by now, without waiting for earlier sends; each
// event's timestamp is the wall-clock time it was handed to the client.
//
// `progress` (an Int32Array of 4 on a SharedArrayBuffer, optional) lets the parent watch the
// generator itself while the phase runs: [0] events handed to the client, [1] acknowledged by
// the broker, [2] failed, and [3] a stop flag the parent sets (read here on every tick, so a
// stop is seen even when the 'stop' message waits behind a busy tick).
//
// The generator must stay linear when it falls behind, or it cannot tell its own limit from the
// reader's: kafkajs 2.2's groupMessagesPerPartition copies the partition's list for every message
// of a send (quadratic), and the first version sent everything due in one send, so once behind
// it sent 127,740 events at once and spent tens of seconds in that copy (73 % of the thread), the
// 'stop' message unread, which made a 60,000/s passthrough phase run for minutes. So a send
// carries at most SEND_MAX events, a tick builds at most TICK_SECONDS of them, and no more than
// MAX_IN_FLIGHT sends wait for the broker: past that the generator is behind its schedule and
// says so through progress, instead of queueing without bound.
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { compatibilityPartitioner, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';

const SEND_MAX = 1000;
// a tick's share, not a fixed count: under load ticks come far less often than every 5 ms, and a
// cap of 1,000 events a tick held the generator under 15,000/s at load 10
const TICK_SECONDS = 0.25;
const MAX_IN_FLIGHT = 64;
/** After the schedule ends, how long unacknowledged sends are waited for (they are reported). */
const DRAIN_MS = 15_000;

const { brokers, topic, rate, durationMs, sessions, runId, eventTypes, progress, client = 'platformatic' } = workerData;

/** A producer of { key, value } strings with acks=1: `produce(messages)` resolves when the leader acknowledged them. */
async function connect() {
  if (client === 'kafkajs') {
    const kafka = new Kafka({ clientId: `open-loop-${runId}`, brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const produce = (messages) => producer.send({ topic, acks: 1, messages });
    await producer.send({ topic, acks: 1, messages: [] });
    return { produce, close: () => producer.disconnect() };
  }
  const producer = new Producer({ clientId: `open-loop-${runId}`, bootstrapBrokers: brokers, acks: ProduceAcks.LEADER, idempotent: false, autocreateTopics: false, serializers: stringSerializers, partitioner: compatibilityPartitioner });
  const produce = (messages) => producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
  await producer.metadata({ topics: [topic] });
  return { produce, close: () => producer.close() };
}
// connected and the topic's metadata fetched before the schedule starts (the first send would otherwise wait for it, late from its first tick)
const producer = await connect();
const counts = new Uint32Array(sessions);
const total = Math.floor((durationMs * rate) / 1000);
const tickMax = Math.max(SEND_MAX, Math.ceil(rate * TICK_SECONDS));
let sent = 0;
let acked = 0;
let failed = 0;
const inFlight = new Set();
// the schedule starts once the client is connected, and the parent is told so: a schedule counted
// from the worker's creation would charge the thread's start-up and the connection to the generator
// as events behind (at 60,000/s, 2 s of start-up under load is 120,000 events)
const t0 = Date.now();
parentPort.postMessage({ started: true });
let stopped = false;
parentPort.on('message', (m) => {
  if (m === 'stop') stopped = true;
});
const stopRequested = () => stopped || (progress !== undefined && Atomics.load(progress, 3) === 1);
const report = () => {
  if (!progress) return;
  Atomics.store(progress, 0, sent);
  Atomics.store(progress, 1, acked);
  Atomics.store(progress, 2, failed);
};

function send(messages) {
  const p = producer.produce(messages).then(
    () => void (acked += messages.length),
    () => void (failed += messages.length),
  );
  inFlight.add(p);
  void p.finally(() => {
    inFlight.delete(p);
    report();
  });
}

await new Promise((resolve) => {
  const timer = setInterval(() => {
    const now = Date.now();
    const due = Math.min(Math.floor(((now - t0) * rate) / 1000), total);
    const until = Math.min(due, sent + tickMax);
    while (sent < until && inFlight.size < MAX_IN_FLIGHT && !stopRequested()) {
      const messages = [];
      for (const end = Math.min(until, sent + SEND_MAX); sent < end; sent++) {
        const s = sent % sessions;
        const k = counts[s]++;
        const sessionId = `${runId}-s${s}`;
        messages.push({
          key: sessionId,
          value: JSON.stringify({ eventId: `${sessionId}-e${k}`, sessionId, userId: `u${s}`, timestamp: now, type: eventTypes[(s + k) % eventTypes.length], page: `/p/${k % 40}`, durationMs: 1000, value: null, properties: {} }),
        });
      }
      send(messages);
    }
    report();
    if (now - t0 >= durationMs || stopRequested()) {
      clearInterval(timer);
      resolve();
    }
  }, 5);
});
const seconds = (Date.now() - t0) / 1000;
let drainTimer;
await Promise.race([Promise.all(inFlight), new Promise((r) => (drainTimer = setTimeout(r, DRAIN_MS)))]);
clearTimeout(drainTimer);
report();
// a send still waiting is abandoned with the client: the events it held count as not acknowledged
await Promise.race([producer.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
parentPort.postMessage({ sent, acked, failed, seconds, stopped: stopRequested(), due: Math.min(Math.floor(seconds * rate), total) });
parentPort.close();
