// Open-loop producer for bench/latency.ts, in a worker thread so a busy processor on the main
// thread cannot delay (and so hide) the events it should be measured against. Every 5 ms it
// sends whatever the target rate says is due by now, without waiting for earlier sends; each
// event's timestamp is the wall-clock time it was handed to the client. `progress` (an Int32Array
// on a SharedArrayBuffer) holds the count sent so far, so the bench can see the producer fall
// behind while the phase runs; a 'stop' message ends the phase early.
import { setInterval, clearInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

const { brokers, topic, rate, durationMs, sessions, runId, eventTypes, progress } = workerData;
const kafka = new Kafka({ clientId: `open-loop-${runId}`, brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const counts = new Uint32Array(sessions);
let sent = 0;
let failed = 0;
const inFlight = new Set();
const t0 = Date.now();
let stopped = false;
parentPort.on('message', (m) => {
  if (m === 'stop') stopped = true;
});
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const now = Date.now();
    const due = Math.min(Math.floor(((now - t0) * rate) / 1000), Math.floor((durationMs * rate) / 1000));
    const messages = [];
    for (; sent < due; sent++) {
      const s = sent % sessions;
      const k = counts[s]++;
      const sessionId = `${runId}-s${s}`;
      messages.push({
        key: sessionId,
        value: JSON.stringify({ eventId: `${sessionId}-e${k}`, sessionId, userId: `u${s}`, timestamp: now, type: eventTypes[(s + k) % eventTypes.length], page: `/p/${k % 40}`, durationMs: 1000, value: null, properties: {} }),
      });
    }
    if (messages.length > 0) {
      const p = producer.send({ topic, acks: 1, messages }).catch(() => (failed += messages.length));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    if (progress) Atomics.store(progress, 0, sent);
    if (now - t0 >= durationMs || stopped) {
      clearInterval(timer);
      resolve();
    }
  }, 5);
});
await Promise.all(inFlight);
const seconds = (Date.now() - t0) / 1000;
await producer.disconnect();
parentPort.postMessage({ sent, failed, seconds, stopped });
parentPort.close();
