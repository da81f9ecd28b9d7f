// The autoencoder: a convolutional encoder (the embedding) and a small dense decoder (only
// there to give training its reconstruction objective). Parameters are plain tf.Variables
// named in a fixed order, so saving, loading and the streaming encoder can read them directly.
//
// Two encoder kinds share one decoder, so a quality comparison isolates the encoder:
// - 'temporal': 1-D convolutions along the time axis (rows), the W features as input
//   channels, 'valid' padding, ReLU, then the mean over time and a linear projection to D.
//   A step appended to the window changes one output position per layer, so a session's
//   embedding can be updated exactly from cached activations (see streaming-encoder.ts).
// - 'cnn2d': the plain 2-D CNN (3×3 convs, stride 2, 'same', ReLU), flatten, linear to D.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCodes, UserError, JourneylensError } from '../errors.ts';
import { seededRandom } from '../util/prng.ts';

const LOGIT_CLIP = 15;

export const ENCODER_KINDS = ['temporal', 'cnn2d'] as const;
export type EncoderKind = (typeof ENCODER_KINDS)[number];

export interface EncoderConfig {
  kind: EncoderKind;
  /** H: image rows (time steps). */
  rows: number;
  /** W: image columns (event features). */
  cols: number;
  /** D: embedding dimension. */
  embeddingDim: number;
  /** Output channels of each conv layer, in order. */
  channels: number[];
  /** 'temporal': kernel length in rows of every conv layer ('cnn2d' always uses 3×3). */
  kernelSize: number;
  /** Width of the decoder's hidden layer. */
  decoderHidden: number;
}

export const defaultEncoderConfig = {
  kind: 'temporal',
  rows: 32,
  cols: 22,
  embeddingDim: 16,
  channels: [32, 32],
  kernelSize: 3,
  decoderHidden: 128,
} satisfies EncoderConfig;

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Only encoder parameters are needed to serve; the decoder exists for training. */
  part: 'encoder' | 'decoder';
  /** Fan-in/fan-out for Glorot init; biases are zero-initialised. */
  fans?: [number, number];
}

function invalid(field: string, message: string): UserError {
  return new UserError(ErrorCodes.CONFIG_INVALID, `encoder config: ${field} ${message}`, { exitCode: 2 });
}

/** Output length (rows) of each temporal conv layer. */
export function temporalLengths(config: EncoderConfig): number[] {
  const out: number[] = [];
  let len = config.rows;
  for (let l = 0; l < config.channels.length; l++) {
    len -= config.kernelSize - 1;
    out.push(len);
  }
  return out;
}

/** Spatial size after each stride-2 'same' layer of the 2-D CNN. */
function cnnSizes(config: EncoderConfig): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let h = config.rows;
  let w = config.cols;
  for (let l = 0; l < config.channels.length; l++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
    out.push([h, w]);
  }
  return out;
}

export function validateEncoderConfig(config: EncoderConfig): void {
  if (!(ENCODER_KINDS as readonly string[]).includes(config.kind)) {
    throw invalid('kind', `must be one of ${ENCODER_KINDS.join(', ')} (got '${String(config.kind)}')`);
  }
  for (const field of ['rows', 'cols', 'embeddingDim', 'kernelSize', 'decoderHidden'] as const) {
    const v = config[field];
    if (!Number.isInteger(v) || v < 1) throw invalid(field, `must be a positive integer (got ${String(v)})`);
  }
  if (!Array.isArray(config.channels) || config.channels.length === 0) {
    throw invalid('channels', 'must list at least one conv layer width, e.g. [32, 32]');
  }
  config.channels.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 1) throw invalid(`channels[${i}]`, `must be a positive integer (got ${String(c)})`);
  });
  if (config.kind === 'temporal') {
    const last = temporalLengths(config).at(-1)!;
    if (last < 1) {
      throw invalid(
        'kernelSize',
        `is too large: ${config.channels.length} 'valid' layers of length ${config.kernelSize} need rows ≥ ${config.rows - last + 1} (rows is ${config.rows})`,
      );
    }
  }
}

export function paramSpecs(config: EncoderConfig): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const d = config.embeddingDim;
  let cin = config.kind === 'temporal' ? config.cols : 1;
  config.channels.forEach((cout, l) => {
    const shape = config.kind === 'temporal' ? [config.kernelSize, cin, cout] : [3, 3, cin, cout];
    const k = config.kind === 'temporal' ? config.kernelSize : 9;
    specs.push({ name: `conv${l}/kernel`, shape, part: 'encoder', fans: [k * cin, k * cout] });
    specs.push({ name: `conv${l}/bias`, shape: [cout], part: 'encoder' });
    cin = cout;
  });
  let flat = cin;
  if (config.kind === 'cnn2d') {
    const [h, w] = cnnSizes(config).at(-1)!;
    flat = h * w * cin;
  }
  specs.push({ name: 'embed/kernel', shape: [flat, d], part: 'encoder', fans: [flat, d] });
  specs.push({ name: 'embed/bias', shape: [d], part: 'encoder' });
  const hid = config.decoderHidden;
  const out = config.rows * config.cols;
  specs.push({ name: 'dec0/kernel', shape: [d, hid], part: 'decoder', fans: [d, hid] });
  specs.push({ name: 'dec0/bias', shape: [hid], part: 'decoder' });
  specs.push({ name: 'dec1/kernel', shape: [hid, out], part: 'decoder', fans: [hid, out] });
  specs.push({ name: 'dec1/bias', shape: [out], part: 'decoder' });
  return specs;
}

/** Glorot-uniform weights and zero biases from one seed (the same seed gives the same model). */
export function initialWeights(config: EncoderConfig, seed: number): Map<string, Float32Array> {
  const rng = seededRandom(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (spec.fans !== undefined) {
      const limit = Math.sqrt(6 / (spec.fans[0] + spec.fans[1]));
      for (let i = 0; i < size; i++) values[i] = (rng() * 2 - 1) * limit;
    }
    out.set(spec.name, values);
  }
  return out;
}

export interface FlopCount {
  /** Multiply-adds ×2 of one forward pass through the encoder. */
  encode: number;
  /** Forward + backward of encoder and decoder (≈ 3× the forward pass). */
  train: number;
}

export function flopsPerImage(config: EncoderConfig): FlopCount {
  let enc = 0;
  let cin = config.kind === 'temporal' ? config.cols : 1;
  if (config.kind === 'temporal') {
    const lens = temporalLengths(config);
    config.channels.forEach((cout, l) => {
      enc += 2 * lens[l]! * config.kernelSize * cin * cout;
      cin = cout;
    });
    enc += 2 * cin * config.embeddingDim;
  } else {
    const sizes = cnnSizes(config);
    config.channels.forEach((cout, l) => {
      const [h, w] = sizes[l]!;
      enc += 2 * h * w * 9 * cin * cout;
      cin = cout;
    });
    const [h, w] = sizes.at(-1)!;
    enc += 2 * h * w * cin * config.embeddingDim;
  }
  const dec = 2 * config.embeddingDim * config.decoderHidden + 2 * config.decoderHidden * config.rows * config.cols;
  return { encode: enc, train: 3 * (enc + dec) };
}

export class AutoencoderModel {
  readonly config: EncoderConfig;
  readonly specs: ParamSpec[];
  private readonly vars = new Map<string, tf.Variable>();

  private constructor(config: EncoderConfig, weights: Map<string, Float32Array>) {
    validateEncoderConfig(config);
    this.config = { ...config, channels: [...config.channels] };
    this.specs = paramSpecs(this.config);
    for (const spec of this.specs) {
      const values = weights.get(spec.name);
      if (values === undefined) {
        if (spec.part === 'encoder') throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `missing weights for '${spec.name}'`);
        continue;
      }
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (values.length !== size) {
        throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `weights for '${spec.name}' have ${values.length} values, shape [${spec.shape.join(', ')}] needs ${size}`);
      }
      this.vars.set(spec.name, tf.variable(tf.tensor(values, spec.shape, 'float32'), true, `${spec.name}_${nextId++}`));
    }
  }

  /** A freshly initialised model; the same config and seed give identical weights. */
  static create(config: EncoderConfig, seed: number): AutoencoderModel {
    return new AutoencoderModel(config, initialWeights(config, seed));
  }

  /** A model from stored weights (encoder only is enough to serve). */
  static fromWeights(config: EncoderConfig, weights: Map<string, Float32Array>): AutoencoderModel {
    return new AutoencoderModel(config, weights);
  }

  get hasDecoder(): boolean {
    return this.specs.every((s) => s.part !== 'decoder' || this.vars.has(s.name));
  }

  private v(name: string): tf.Variable {
    const t = this.vars.get(name);
    if (t === undefined) throw new JourneylensError(ErrorCodes.INTERNAL, `model has no parameter '${name}'`);
    return t;
  }

  /** x: [N, H, W] → embeddings [N, D]. */
  encode(x: tf.Tensor): tf.Tensor2D {
    const { config } = this;
    // Fused conv/matMul + bias + ReLU: one kernel instead of three at inference (TF.js
    // unfuses them under a gradient tape). conv1d is a conv2d over a [N, 1, H, W] image.
    return tf.tidy((): tf.Tensor2D => {
      const n = x.shape[0]!;
      if (config.kind === 'temporal') {
        let h = tf.reshape(x, [n, 1, config.rows, config.cols]) as tf.Tensor4D;
        config.channels.forEach((cout, l) => {
          const kernel = this.v(`conv${l}/kernel`);
          h = tf.fused.conv2d({
            x: h,
            filter: tf.reshape(kernel, [1, config.kernelSize, kernel.shape[1]!, cout]) as tf.Tensor4D,
            strides: 1,
            pad: 'valid',
            bias: this.v(`conv${l}/bias`),
            activation: 'relu',
          });
        });
        const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
        return tf.fused.matMul({ a: pooled, b: this.v('embed/kernel') as tf.Tensor2D, bias: this.v('embed/bias') }) as tf.Tensor2D;
      }
      let h = tf.reshape(x, [n, config.rows, config.cols, 1]) as tf.Tensor4D;
      config.channels.forEach((_, l) => {
        h = tf.fused.conv2d({
          x: h,
          filter: this.v(`conv${l}/kernel`) as tf.Tensor4D,
          strides: 2,
          pad: 'same',
          bias: this.v(`conv${l}/bias`),
          activation: 'relu',
        });
      });
      const flat = tf.reshape(h, [n, -1]) as tf.Tensor2D;
      return tf.fused.matMul({ a: flat, b: this.v('embed/kernel') as tf.Tensor2D, bias: this.v('embed/bias') }) as tf.Tensor2D;
    });
  }

  /** z: [N, D] → reconstructed images [N, H, W] in (0, 1). */
  decode(z: tf.Tensor2D): tf.Tensor3D {
    const { rows, cols } = this.config;
    return tf.tidy(() => {
      const h = tf.fused.matMul({ a: z, b: this.v('dec0/kernel') as tf.Tensor2D, bias: this.v('dec0/bias'), activation: 'relu' });
      const logits = tf.fused.matMul({ a: h, b: this.v('dec1/kernel') as tf.Tensor2D, bias: this.v('dec1/bias') });
      // Most pixels of a journey image are 0, so training drives their logits far negative. A
      // saturated sigmoid's gradient then underflows into subnormal floats, which the CPU (and
      // so wasm) handles ~100× slower: epochs got 2× slower as training went on. Clipping at
      // ±LOGIT_CLIP keeps outputs within 3e-7 of 0 and 1 and gives an exact 0 gradient beyond.
      return tf.reshape(tf.sigmoid(tf.clipByValue(logits, -LOGIT_CLIP, LOGIT_CLIP)), [z.shape[0], rows, cols]) as tf.Tensor3D;
    });
  }

  /** Mean squared reconstruction error over a batch [N, H, W]. */
  loss(x: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const y = this.decode(this.encode(x));
      return tf.mean(tf.squaredDifference(y, tf.reshape(x, y.shape))) as tf.Scalar;
    });
  }

  /** Encodes n images (row-major [n, H, W]) into n×D embeddings; leaves no tensors behind. */
  encodeImages(images: Float32Array, n: number): Float32Array {
    const { rows, cols, embeddingDim } = this.config;
    if (images.length !== n * rows * cols) {
      throw new JourneylensError(ErrorCodes.INPUT_INVALID, `encodeImages: got ${images.length} values for ${n} images of ${rows}×${cols}`);
    }
    if (n === 0) return new Float32Array(0);
    const z = tf.tidy(() => this.encode(tf.tensor3d(images, [n, rows, cols])));
    try {
      const out = z.dataSync() as Float32Array;
      return out.length === n * embeddingDim ? new Float32Array(out) : out;
    } finally {
      z.dispose();
    }
  }

  trainableVariables(part?: 'encoder' | 'decoder'): tf.Variable[] {
    return this.specs
      .filter((s) => (part === undefined || s.part === part) && this.vars.has(s.name))
      .map((s) => this.v(s.name));
  }

  /** Current parameter values by name (copies), in spec order. */
  weightValues(part?: 'encoder' | 'decoder'): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const s of this.specs) {
      if ((part !== undefined && s.part !== part) || !this.vars.has(s.name)) continue;
      out.set(s.name, new Float32Array(this.v(s.name).dataSync() as Float32Array));
    }
    return out;
  }

  /** Overwrites parameters in place (e.g. to restore the best epoch after early stopping). */
  assignWeights(weights: Map<string, Float32Array>): void {
    for (const s of this.specs) {
      const values = weights.get(s.name);
      const variable = this.vars.get(s.name);
      if (values === undefined || variable === undefined) continue;
      tf.tidy(() => variable.assign(tf.tensor(values, s.shape, 'float32')));
    }
  }

  flops(): FlopCount {
    return flopsPerImage(this.config);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

// Variable names must be unique per engine; two models (e.g. an old and a hot-reloaded one)
// may coexist in one thread.
let nextId = 0;
