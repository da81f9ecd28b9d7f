// Encoder throughput per TF.js backend: images/s at batch 1, 64 and 256 for each encoder kind,
// the model's FLOPs per image and the GFLOP/s achieved, beside the same backend's plain
// matMul GFLOP/s measured in the same run (the baseline: how far the model is from what the
// backend can do at all). Also training images/s and the streaming (incremental) update rate.
//   npx tsx bench/encoder.ts [--quick]
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initBackend, switchBackend } from '../src/model/backend.ts';
import { AutoencoderModel, defaultEncoderConfig, type EncoderConfig, type EncoderKind } from '../src/model/encoder-model.ts';
import { StreamingEncoder } from '../src/model/streaming-encoder.ts';
// The training step below takes gradients: tfjs-core's Node build registers none, training's
// module does (and swaps in the wasm training kernels), as `journeylens train` loads it.
import { enableGradients } from '../src/training/gradients.ts';
import { syntheticImages } from '../src/training/synthetic.ts';

const quick = process.argv.includes('--quick');
const budgetMs = quick ? 300 : 1500;

/** Runs f repeatedly for about budgetMs (after a warm-up); returns ms per call. */
function time(f: () => void, budget = budgetMs): number {
  f();
  f();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budget || calls < 3) {
    f();
    calls++;
  }
  return (performance.now() - t0) / calls;
}

function matMulGflops(): number {
  const n = 256;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const ms = time(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  });
  tf.dispose([a, b]);
  return (2 * n ** 3) / (ms * 1e6);
}

const kinds: Array<{ kind: EncoderKind; config: EncoderConfig }> = [
  { kind: 'temporal', config: { ...defaultEncoderConfig } },
  { kind: 'cnn2d', config: { ...defaultEncoderConfig, kind: 'cnn2d', channels: [8, 16] } },
];
const H = defaultEncoderConfig.rows;
const W = defaultEncoderConfig.cols;
const { images } = syntheticImages(256, H, W, 3);

async function measureBackend(name: BackendName): Promise<unknown> {
  await switchBackend(name);
  enableGradients();
  const baseline = matMulGflops();
  const models = [];
  for (const { kind, config } of kinds) {
    const model = AutoencoderModel.create(config, 1);
    const flops = model.flops();
    const encode = [];
    for (const batch of [1, 64, 256]) {
      const x = images.subarray(0, batch * H * W);
      const ms = time(() => model.encodeImages(x, batch));
      const imagesPerSecond = (batch * 1000) / ms;
      encode.push({
        batch,
        imagesPerSecond: Math.round(imagesPerSecond),
        msPerBatch: +ms.toFixed(3),
        gflopsPerSecond: +((imagesPerSecond * flops.encode) / 1e9).toFixed(3),
        // The target: the model reaches >= 40% of what the backend's own matMul does.
        ofMatMul: +((imagesPerSecond * flops.encode) / 1e9 / baseline).toFixed(3),
      });
    }
    // One Adam step on a batch of 64 (what trainAutoencoder runs), tensors disposed each time.
    const optimizer = tf.train.adam(1e-3);
    const vars = model.trainableVariables();
    const x = tf.tensor3d(images.subarray(0, 64 * H * W), [64, H, W]);
    const stepMs = time(() => {
      tf.tidy(() => {
        optimizer.minimize(() => model.loss(x), false, vars);
      });
    }, name === 'cpu' ? Math.min(budgetMs, 800) : budgetMs);
    const trainImagesPerSecond = (64 * 1000) / stepMs;
    tf.dispose(x);
    optimizer.dispose();
    model.dispose();
    models.push({
      kind,
      flopsPerImage: flops,
      encode,
      train: {
        batch: 64,
        imagesPerSecond: Math.round(trainImagesPerSecond),
        gflopsPerSecond: +((trainImagesPerSecond * flops.train) / 1e9).toFixed(3),
        projectedSecondsFor20kx10: Math.round((20_000 * 10) / trainImagesPerSecond),
      },
    });
  }
  return { backend: name, matMulBaselineGflopsPerSecond: +baseline.toFixed(3), models };
}

/** Per-event cost of the exact incremental update vs re-encoding the window at batch 1. */
function measureStreaming(): unknown {
  const model = AutoencoderModel.create(defaultEncoderConfig, 1);
  const stream = StreamingEncoder.fromModel(model);
  const state = stream.newSession();
  const rows = images.subarray(0, 256 * H * W);
  let r = 0;
  const out = new Float32Array(defaultEncoderConfig.embeddingDim);
  const ms = time(() => {
    for (let i = 0; i < 1000; i++) {
      stream.push(state, rows.subarray(r * W, (r + 1) * W));
      stream.embedding(state, out);
      r = (r + 1) % (256 * H);
    }
  });
  model.dispose();
  return { eventsPerSecond: Math.round(1e6 / ms), stateBytesPerSession: stream.stateBytes };
}

const first = await initBackend({ prefer: 'wasm' });
const results = [];
for (const name of ['wasm', 'cpu', 'tensorflow'] as const) {
  try {
    results.push(await measureBackend(name));
  } catch (err) {
    results.push({ backend: name, unavailable: err instanceof Error ? err.message : String(err) });
  }
}
await switchBackend(first);
const measured = results.filter((r) => !('unavailable' in (r as object)));
// No backend measured means no figures: an error (not a result) so that run.mjs fails the run.
const out =
  measured.length === 0
    ? { error: 'every backend unavailable', backends: results }
    : { bench: 'encoder', quick, target: { ofMatMulAtLeast: 0.4 }, image: { rows: H, cols: W }, streaming: measureStreaming(), backends: results };
process.stdout.write(JSON.stringify(out) + '\n');
if (measured.length === 0) {
  process.stderr.write(`encoder: every backend unavailable: ${results.map((r) => JSON.stringify(r)).join('; ')}\n`);
  process.exitCode = 1;
}
