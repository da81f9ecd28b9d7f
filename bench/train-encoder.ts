// Training time and embedding quality of the encoder kinds on random-but-structured journey
// images (synthetic step patterns with a known pattern id per image). Both kinds train on the
// same images with the same seed and epochs; quality = 1-nearest-neighbour accuracy of the
// pattern id in embedding space on held-out images, beside the same metric on the raw
// flattened images (the baseline an encoder has to match while being 44× smaller).
//   npx tsx bench/train-encoder.ts [--quick] [--sessions N] [--epochs E] [--kinds temporal,cnn2d]
import { SingleBar } from 'cli-progress';
import { initBackend } from '../src/model/backend.ts';
import { defaultEncoderConfig, type EncoderKind } from '../src/model/encoder-model.ts';
import { syntheticImages } from '../src/training/synthetic.ts';
import { trainAutoencoder } from '../src/training/train.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const quick = process.argv.includes('--quick');
const sessions = Number(arg('sessions', quick ? '2000' : '20000'));
const epochs = Number(arg('epochs', quick ? '2' : '10'));
const kinds = arg('kinds', 'temporal,cnn2d').split(',') as EncoderKind[];
const H = defaultEncoderConfig.rows;
const W = defaultEncoderConfig.cols;
const HELD_OUT = Math.min(1000, Math.floor(sessions / 5));
const REFERENCE = Math.min(4000, sessions - HELD_OUT);

/** 1-NN accuracy of `labels` for the last HELD_OUT vectors against the REFERENCE before them. */
function oneNnAccuracy(vectors: Float32Array, dim: number, labels: Int32Array): number {
  const n = labels.length;
  let hits = 0;
  for (let q = n - HELD_OUT; q < n; q++) {
    let best = Number.POSITIVE_INFINITY;
    let label = -1;
    for (let r = n - HELD_OUT - REFERENCE; r < n - HELD_OUT; r++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const t = vectors[q * dim + j]! - vectors[r * dim + j]!;
        d += t * t;
      }
      if (d < best) {
        best = d;
        label = labels[r]!;
      }
    }
    if (label === labels[q]) hits++;
  }
  return hits / HELD_OUT;
}

const backend = await initBackend();
const train = syntheticImages(sessions, H, W, 101);
// Patterns are drawn per generator seed, so the evaluation images are the training set's
// tail (labels are never used in training, so this measures the embedding, not memorisation).
const evalImages = train.images.subarray((sessions - HELD_OUT - REFERENCE) * H * W);
const evalLabels = train.patterns.subarray(sessions - HELD_OUT - REFERENCE);

const results = [];
results.push({ kind: 'raw-image', dim: H * W, oneNnAccuracy: oneNnAccuracy(evalImages, H * W, evalLabels) });
for (const kind of kinds) {
  const bar = new SingleBar(
    { format: `${kind} {bar} epoch {epoch}/{epochs} | loss {loss} | val {val} | {ips} img/s | {eta}s`, stream: process.stderr },
  );
  bar.start(epochs * Math.ceil((sessions * 0.9) / 64), 0, { epoch: 1, epochs, loss: '-', val: '-', ips: 0 });
  const r = await trainAutoencoder(train.images, sessions, H, W, {
    config: kind === 'cnn2d' ? { kind, channels: [8, 16] } : { kind },
    epochs,
    seed: 42,
    patience: 3,
    onProgress: (p) => {
      bar.update((p.epoch - 1) * p.batches + p.batch, {
        epoch: p.epoch, epochs: p.epochs, loss: p.loss.toFixed(5),
        val: Number.isNaN(p.valLoss) ? '-' : p.valLoss.toFixed(5), ips: Math.round(p.imagesPerSecond),
      });
    },
  });
  bar.stop();
  const z = r.model.encodeImages(evalImages, evalLabels.length);
  results.push({
    kind,
    dim: r.model.config.embeddingDim,
    seconds: +r.seconds.toFixed(1),
    trainImagesPerSecond: Math.round(r.imagesPerSecond),
    projectedSecondsFor20kx10: Math.round((20_000 * 0.9 * 10) / r.imagesPerSecond),
    epochsRun: r.history.length,
    bestEpoch: r.bestEpoch,
    bestValLoss: +r.bestValLoss.toFixed(6),
    firstEpochValLoss: +r.history[0]!.valLoss.toFixed(6),
    flopsPerImage: r.model.flops(),
    oneNnAccuracy: oneNnAccuracy(z, r.model.config.embeddingDim, evalLabels),
  });
  r.model.dispose();
}
process.stdout.write(
  JSON.stringify({ bench: 'train-encoder', backend, sessions, epochs, image: { rows: H, cols: W }, note: `oneNnAccuracy: pattern id of the nearest of ${REFERENCE} reference images, over ${HELD_OUT} query images (from the training set; the autoencoder never sees labels)`, results }, null, 2) + '\n',
);
