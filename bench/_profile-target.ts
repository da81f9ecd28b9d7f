// The process bench/profile.ts profiles (node --cpu-prof): a broker, the processor and an
// open-loop producer at a fixed rate for a while, then a clean stop (profiles are written at exit).
//
//   node --cpu-prof --import tsx bench/_profile-target.ts <rate> <seconds>
import { Worker } from 'node:worker_threads';
import { defaultImageSpec } from '../src/journey/image-spec.ts';
import { createTopic, startProcessor, uniqueName, withBroker } from './_kafka.ts';

const rate = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 20);

const stats = await withBroker(async (broker, kafka) => {
  const topic = uniqueName('live');
  await createTopic(kafka, topic, 3);
  const run = await startProcessor(broker.bootstrap, { input: topic, signals: uniqueName('signals') });
  try {
    const worker = new Worker(new URL('./_open-loop-producer.mjs', import.meta.url), {
      // kafkajs's client, as before: @platformatic/kafka's computes CRC32C in WebAssembly, and
      // bench/profile.ts tells the scoring workers' profiles by their wasm:// frames
      workerData: { brokers: [broker.bootstrap], topic, rate, durationMs: seconds * 1000, sessions: 20_000, runId: uniqueName('ol'), eventTypes: defaultImageSpec.eventTypes, client: 'kafkajs' },
    });
    const loadFromUs = Number(process.hrtime.bigint() / 1000n);
    // the generator says { started } once connected, then its figures when its schedule is done
    const sent = await new Promise<{ sent: number }>((resolve, reject) => {
      worker.on('message', (m: { started: true } | { sent: number }) => {
        if ('sent' in m) resolve(m);
      });
      worker.once('error', reject);
    });
    const loadToUs = Number(process.hrtime.bigint() / 1000n);
    return { sent: sent.sent, loadFromUs, loadToUs, ...run.app.processor.stats };
  } finally {
    await run.app.stop();
  }
});
process.stdout.write(`${JSON.stringify(stats)}\n`);
