// Trains the autoencoder: seeded init and shuffling (same data + seed → same weights on the
// same backend), mini-batch Adam, a held-out validation split, early stopping that restores
// the best epoch. Progress goes to a callback; the caller draws the bar.
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients } from './gradients.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { AutoencoderModel, defaultEncoderConfig, type EncoderConfig } from '../model/encoder-model.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';

export interface TrainOptions {
  /** Architecture; rows/cols are taken from the trainAutoencoder arguments. */
  config?: Partial<Omit<EncoderConfig, 'rows' | 'cols'>>;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Fraction of images held out for validation (0 disables it, and early stopping). */
  validationSplit?: number;
  /** Epochs without a val-loss improvement of at least minDelta before stopping. */
  patience?: number;
  minDelta?: number;
  /** Called after every `progressEvery` batches and at the end of every epoch. */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
  /**
   * A second objective (issue 19): a logistic churn head on the embedding, trained with the
   * reconstruction. `labels` has one value per image (1 churned, 0 retained, NaN unlabelled: no
   * churn term); the loss is MSE + weight × the mean cross-entropy over the batch's labelled
   * images. The head is training-only: the served encoder's parameters and cost are unchanged.
   */
  churn?: { labels: Float32Array; weight: number };
}

export interface TrainProgress {
  phase: 'batch' | 'epoch';
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Mean training loss so far in this epoch. */
  loss: number;
  /** Validation loss of the last finished epoch (NaN before the first one). */
  valLoss: number;
  /** Training images per second in this epoch. */
  imagesPerSecond: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
  imagesPerSecond: number;
}

export interface TrainResult {
  model: AutoencoderModel;
  history: EpochStats[];
  /** 1-based epoch whose weights the model holds. */
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  trainCount: number;
  validationCount: number;
  seconds: number;
  imagesPerSecond: number;
  backend: string;
}

export const defaultTrainOptions = {
  seed: 42,
  epochs: 10,
  batchSize: 64,
  learningRate: 2e-3,
  validationSplit: 0.1,
  patience: 3,
  minDelta: 1e-5,
  progressEvery: 10,
} satisfies Partial<TrainOptions>;

// The sigmoid clip of encoder-model.ts's decoder, for the churn head's probabilities.
const LOGIT_CLIP = 15;

function invalid(field: string, message: string): UserError {
  return new UserError(ErrorCodes.CONFIG_INVALID, `train: ${field} ${message}`, { exitCode: 2 });
}

function gatherBatch(images: Float32Array, idx: Int32Array, from: number, to: number, size: number, out: Float32Array): Float32Array {
  const view = out.subarray(0, (to - from) * size);
  for (let i = from; i < to; i++) view.set(images.subarray(idx[i]! * size, (idx[i]! + 1) * size), (i - from) * size);
  return view;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains on n images stored row-major in `images` ([n, H, W], values in [0, 1]).
 * Call initBackend() first (this enables gradients on it); the tensors it leaves are only the
 * returned model's weights.
 */
export async function trainAutoencoder(
  images: Float32Array,
  n: number,
  rows: number,
  cols: number,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const o = { ...defaultTrainOptions, ...options };
  const size = rows * cols;
  if (images.length !== n * size) throw invalid('images', `has ${images.length} values; ${n} images of ${rows}×${cols} need ${n * size}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw invalid('epochs', `must be a positive integer (got ${o.epochs})`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw invalid('batchSize', `must be a positive integer (got ${o.batchSize})`);
  if (!(o.validationSplit >= 0 && o.validationSplit < 1)) throw invalid('validationSplit', `must be in [0, 1) (got ${o.validationSplit})`);
  const validationCount = o.validationSplit > 0 ? Math.max(1, Math.round(n * o.validationSplit)) : 0;
  const trainCount = n - validationCount;
  if (trainCount < 1) throw invalid('images', `needs at least 2 images to train with a validation split (got ${n})`);

  if (o.churn !== undefined) {
    if (o.churn.labels.length !== n) throw invalid('churn.labels', `has ${o.churn.labels.length} values; one per image needs ${n}`);
    if (!(o.churn.weight >= 0) || !Number.isFinite(o.churn.weight)) throw invalid('churn.weight', `must be a finite number ≥ 0 (got ${o.churn.weight})`);
  }
  const churn = o.churn !== undefined && o.churn.weight > 0 ? o.churn : undefined;

  enableGradients();
  const config: EncoderConfig = { ...defaultEncoderConfig, ...o.config, rows, cols };
  const model = AutoencoderModel.create(config, o.seed);
  const rng = seededRandom(o.seed ^ 0x9e3779b9);
  const order = seededPermutation(n, rng);
  const valIdx = order.subarray(trainCount);
  const trainIdx = new Int32Array(order.subarray(0, trainCount));
  const optimizer = tf.train.adam(o.learningRate);
  // The churn head starts at zero (no random draw, so the encoder's init is the same with or
  // without it): its first steps fit the head alone, then its gradient reaches the encoder.
  const head = churn ? { kernel: tf.variable(tf.zeros([config.embeddingDim, 1]), true), bias: tf.variable(tf.zeros([1]), true) } : undefined;
  const vars = [...model.trainableVariables(), ...(head ? [head.kernel, head.bias] : [])];
  const buf = new Float32Array(Math.max(o.batchSize, 256) * size);
  const yBuf = new Float32Array(Math.max(o.batchSize, 256));
  const mBuf = new Float32Array(Math.max(o.batchSize, 256));
  // Labels and mask of a batch (mask 0 for unlabelled images).
  const gatherLabels = (idx: Int32Array, from: number, to: number): [Float32Array, Float32Array] => {
    for (let i = from; i < to; i++) {
      const y = churn!.labels[idx[i]!]!;
      yBuf[i - from] = Number.isNaN(y) ? 0 : y;
      mBuf[i - from] = Number.isNaN(y) ? 0 : 1;
    }
    return [yBuf.subarray(0, to - from), mBuf.subarray(0, to - from)];
  };
  /** The training objective of one batch: reconstruction MSE, plus the weighted churn cross-entropy. */
  const objective = (x: tf.Tensor3D, idx: Int32Array, from: number, to: number): tf.Scalar => {
    if (!churn || !head) return model.loss(x);
    const [yv, mv] = gatherLabels(idx, from, to);
    return tf.tidy(() => {
      const z = model.encode(x);
      const recon = tf.mean(tf.squaredDifference(model.decode(z), x));
      const logit = tf.reshape(tf.add(tf.matMul(z, head.kernel), head.bias), [to - from]);
      // log-sigmoid through a clipped sigmoid (the decoder's reason: no subnormal gradients)
      const p = tf.sigmoid(tf.clipByValue(logit, -LOGIT_CLIP, LOGIT_CLIP));
      const y = tf.tensor1d(yv);
      const m = tf.tensor1d(mv);
      const ce = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))));
      const labelled = Math.max(1, mv.reduce((a, b) => a + b, 0));
      return tf.add(recon, tf.mul(churn.weight / labelled, tf.sum(tf.mul(ce, m)))) as tf.Scalar;
    });
  };
  const batches = Math.ceil(trainCount / o.batchSize);

  const validate = (): number => {
    if (validationCount === 0) return Number.NaN;
    let sum = 0;
    for (let from = 0; from < validationCount; from += 256) {
      const to = Math.min(validationCount, from + 256);
      const data = gatherBatch(images, valIdx, from, to, size, buf);
      const l = tf.tidy(() => objective(tf.tensor3d(data, [to - from, rows, cols]), valIdx, from, to));
      sum += l.dataSync()[0]! * (to - from);
      l.dispose();
    }
    return sum / validationCount;
  };

  const history: EpochStats[] = [];
  let best = { epoch: 0, valLoss: Number.POSITIVE_INFINITY, weights: undefined as Map<string, Float32Array> | undefined };
  let stale = 0;
  let stoppedEarly = false;
  let lastVal = Number.NaN;
  const t0 = performance.now();
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const e0 = performance.now();
      // Reshuffle the training part in place each epoch, from the seeded stream.
      const perm = seededPermutation(trainCount, rng);
      const epochIdx = new Int32Array(trainCount);
      for (let i = 0; i < trainCount; i++) epochIdx[i] = trainIdx[perm[i]!]!;
      let lossSum = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        const from = b * o.batchSize;
        const to = Math.min(trainCount, from + o.batchSize);
        const data = gatherBatch(images, epochIdx, from, to, size, buf);
        const cost = tf.tidy(() => {
          const x = tf.tensor3d(data, [to - from, rows, cols]);
          return optimizer.minimize(() => objective(x, epochIdx, from, to), true, vars) as tf.Scalar;
        });
        lossSum += cost.dataSync()[0]! * (to - from);
        cost.dispose();
        seen += to - from;
        if ((b + 1) % o.progressEvery === 0 && b + 1 < batches) {
          o.onProgress?.({
            phase: 'batch', epoch, epochs: o.epochs, batch: b + 1, batches,
            loss: lossSum / seen, valLoss: lastVal, imagesPerSecond: seen / ((performance.now() - e0) / 1000),
          });
          await yieldToEventLoop();
        }
      }
      const trainSeconds = (performance.now() - e0) / 1000;
      lastVal = validate();
      const stats: EpochStats = {
        epoch, loss: lossSum / seen, valLoss: lastVal,
        seconds: (performance.now() - e0) / 1000, imagesPerSecond: seen / trainSeconds,
      };
      history.push(stats);
      o.onProgress?.({
        phase: 'epoch', epoch, epochs: o.epochs, batch: batches, batches,
        loss: stats.loss, valLoss: lastVal, imagesPerSecond: stats.imagesPerSecond,
      });
      await yieldToEventLoop();
      if (validationCount === 0) continue;
      if (lastVal < best.valLoss - o.minDelta) {
        best = { epoch, valLoss: lastVal, weights: model.weightValues() };
        stale = 0;
      } else if (++stale >= o.patience) {
        stoppedEarly = epoch < o.epochs;
        break;
      }
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    head?.kernel.dispose();
    head?.bias.dispose();
  }
  if (best.weights !== undefined && best.epoch !== history.length) model.assignWeights(best.weights);
  const seconds = (performance.now() - t0) / 1000;
  return {
    model,
    history,
    bestEpoch: validationCount === 0 ? history.length : best.epoch,
    bestValLoss: validationCount === 0 ? Number.NaN : best.valLoss,
    stoppedEarly,
    trainCount,
    validationCount,
    seconds,
    imagesPerSecond: (trainCount * history.length) / history.reduce((a, h) => a + trainCount / h.imagesPerSecond, 0),
    backend: tf.getBackend(),
  };
}
