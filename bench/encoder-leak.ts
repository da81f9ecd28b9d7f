// The full leak check: 1,000,000 encodes through the worker-thread client in batches of 256;
// the worker's live tensor count must end where it started (the unit test runs 100,000).
// Prints throughput beside an in-thread encode of the same batches, measured in the same run.
//   npx tsx bench/encoder-leak.ts [--quick]     (--quick: 100,000 encodes)
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { initBackend } from '../src/model/backend.ts';
import { EncoderClient } from '../src/model/encoder-client.ts';
import { AutoencoderModel, defaultEncoderConfig } from '../src/model/encoder-model.ts';
import { syntheticImages } from '../src/training/synthetic.ts';

const quick = process.argv.includes('--quick');
const total = quick ? 100_000 : 1_000_000;
const BATCH = 256;
const config = { ...defaultEncoderConfig };
const size = config.rows * config.cols;

const backend = await initBackend();
const model = AutoencoderModel.create(config, 1);
const { images } = syntheticImages(BATCH, config.rows, config.cols, 2);

// Baseline: the same batches encoded in this thread (no worker, no message passing).
const baselineBatches = 200;
const b0 = performance.now();
for (let i = 0; i < baselineBatches; i++) model.encodeImages(images, BATCH);
const baselineImagesPerSecond = (baselineBatches * BATCH * 1000) / (performance.now() - b0);

const batchSizes: number[] = [];
const client = await EncoderClient.start(model, { maxBatch: BATCH, onBatch: (b) => batchSizes.push(b.size) });
await client.encode(images, BATCH);
const start = (await client.stats()).numTensors;
const t0 = performance.now();
const pending: Array<Promise<Float32Array>> = [];
// How long the main thread's event loop (where the Kafka client lives) waits, while encoding.
const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();
for (let done = 0; done < total; done += BATCH) {
  const n = Math.min(BATCH, total - done);
  pending.push(client.encode(images.subarray(0, n * size), n));
  if (pending.length >= 4) await pending.shift();
}
await Promise.all(pending);
lag.disable();
const seconds = (performance.now() - t0) / 1000;
const end = await client.stats();
await client.close();
model.dispose();

process.stdout.write(
  JSON.stringify(
    {
      bench: 'encoder-leak',
      backend: client.backend,
      mainThreadBackend: backend,
      encodes: total,
      batch: BATCH,
      tensorsAtStart: start,
      tensorsAtEnd: end.numTensors,
      leaked: end.numTensors - start,
      workerBytesAtEnd: end.numBytes,
      seconds: +seconds.toFixed(1),
      imagesPerSecond: Math.round(total / seconds),
      baselineInThreadImagesPerSecond: Math.round(baselineImagesPerSecond),
      batches: batchSizes.length,
      eventLoopDelayMs: {
        p50: +(lag.percentile(50) / 1e6).toFixed(1),
        p99: +(lag.percentile(99) / 1e6).toFixed(1),
        max: +(lag.max / 1e6).toFixed(1),
      },
    },
    null,
    2,
  ) + '\n',
);
process.exitCode = end.numTensors === start ? 0 : 1;
