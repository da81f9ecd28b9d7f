// Exact incremental embeddings for the 'temporal' encoder. A session keeps each conv layer's
// activations in a ring buffer plus the running sum that the mean-over-time pools. When the
// window slides (oldest row out, new row in) every layer loses its first position and gains
// one new one, computed from the last k positions below it; when one row changes in place
// only the ≤ k·layers positions that see it are recomputed. Either way the cost per event is
// Σ k·Cin·Cout + C·D multiply-adds, independent of the window height H, and the result equals
// encoding the current image from scratch (up to float rounding).
//
// Row layout ('fill'): 'bottom' = the newest step is always row H−1 and a short session has
// zero rows above it (every event is a slide); 'top' = steps fill rows 0, 1, … and the window
// slides once full. Windows shorter than H are the same image with zero rows, so the state of
// a new session is the state of the all-zero image.
import { type AutoencoderModel, type EncoderConfig, temporalLengths } from './encoder-model.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export type RowFill = 'bottom' | 'top';

export interface SessionEncoderState {
  /** Steps pushed so far (decides where the next row goes when fill is 'top'). */
  count: number;
  /** Per layer (0 = the input rows): activations [len × channels], a ring over positions. */
  layers: Float32Array[];
  /** Per layer: physical slot of logical position 0. */
  starts: Int32Array;
  /** Running sum over time of the last conv layer (what the mean pools). */
  sum: Float64Array;
  /** Slides since the sum was last recomputed from the buffer (bounds float drift). */
  slides: number;
}

interface Layer {
  len: number;
  cin: number;
  cout: number;
  kernel: Float32Array;
  bias: Float32Array;
}

export class StreamingEncoder {
  readonly config: EncoderConfig;
  readonly fill: RowFill;
  private readonly layers: Layer[];
  private readonly embedKernel: Float32Array;
  private readonly embedBias: Float32Array;
  private readonly template: SessionEncoderState;
  private readonly acc: Float64Array;

  constructor(config: EncoderConfig, weights: Map<string, Float32Array>, fill: RowFill = 'bottom') {
    if (config.kind !== 'temporal') {
      throw new JourneylensError(ErrorCodes.CONFIG_INVALID, `streaming updates need the 'temporal' encoder (this model is '${config.kind}'); re-encode the window instead`);
    }
    this.config = config;
    this.fill = fill;
    const get = (name: string): Float32Array => {
      const w = weights.get(name);
      if (w === undefined) throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `missing weights for '${name}'`);
      return w;
    };
    const lens = temporalLengths(config);
    let cin = config.cols;
    this.layers = config.channels.map((cout, l) => {
      const layer = { len: lens[l]!, cin, cout, kernel: get(`conv${l}/kernel`), bias: get(`conv${l}/bias`) };
      cin = cout;
      return layer;
    });
    this.embedKernel = get('embed/kernel');
    this.embedBias = get('embed/bias');
    this.acc = new Float64Array(Math.max(...config.channels));
    this.template = this.fromImage(new Float32Array(config.rows * config.cols));
  }

  static fromModel(model: AutoencoderModel, fill: RowFill = 'bottom'): StreamingEncoder {
    return new StreamingEncoder(model.config, model.weightValues('encoder'), fill);
  }

  /** Bytes of state per session (the price of H-independent updates). */
  get stateBytes(): number {
    const s = this.template;
    return s.layers.reduce((a, l) => a + l.byteLength, 0) + s.sum.byteLength + s.starts.byteLength;
  }

  /** State of a session with no steps yet (the all-zero window). */
  newSession(): SessionEncoderState {
    const t = this.template;
    return { count: 0, layers: t.layers.map((l) => l.slice()), starts: t.starts.slice(), sum: t.sum.slice(), slides: 0 };
  }

  /** State for an existing image [H × W] (e.g. a session restored after a restart); `count` steps. */
  fromImage(image: Float32Array, count = 0): SessionEncoderState {
    const { rows, cols } = this.config;
    if (image.length !== rows * cols) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `fromImage: image has ${image.length} values, ${rows}×${cols} needs ${rows * cols}`);
    const layers = [image.slice(), ...this.layers.map((l) => new Float32Array(l.len * l.cout))];
    const state: SessionEncoderState = {
      count,
      layers,
      starts: new Int32Array(layers.length),
      sum: new Float64Array(this.layers.at(-1)!.cout),
      slides: 0,
    };
    for (let l = 1; l <= this.layers.length; l++) {
      for (let p = 0; p < this.layers[l - 1]!.len; p++) this.compute(state, l, p);
    }
    this.resum(state);
    return state;
  }

  /** Adds the session's next step (one image row of W values). */
  push(state: SessionEncoderState, row: Float32Array): void {
    if (this.fill === 'top' && state.count < this.config.rows) this.setRow(state, state.count, row);
    else this.slide(state, row);
    state.count++;
  }

  /** The window slides by one: row 0 drops out, `row` becomes row H−1. */
  slide(state: SessionEncoderState, row: Float32Array): void {
    const cols = this.config.cols;
    if (row.length !== cols) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `row has ${row.length} values, the image has ${cols} columns`);
    const rows = this.config.rows;
    const slot0 = state.starts[0]!;
    state.layers[0]!.set(row, slot0 * cols);
    state.starts[0] = (slot0 + 1) % rows;
    const last = this.layers.length;
    for (let l = 1; l <= last; l++) {
      // The oldest slot becomes the newest position; compute() swaps its value in the sum.
      const { len } = this.layers[l - 1]!;
      state.starts[l] = (state.starts[l]! + 1) % len;
      this.compute(state, l, len - 1);
    }
    if (++state.slides >= this.layers.at(-1)!.len) this.resum(state);
  }

  /** Row r of the window changes in place (e.g. a time bucket gains an event). */
  setRow(state: SessionEncoderState, r: number, row: Float32Array): void {
    const { rows, cols } = this.config;
    if (!Number.isInteger(r) || r < 0 || r >= rows) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `row index ${r} is outside 0..${rows - 1}`);
    if (row.length !== cols) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `row has ${row.length} values, the image has ${cols} columns`);
    state.layers[0]!.set(row, ((state.starts[0]! + r) % rows) * cols);
    let lo = r;
    let hi = r;
    for (let l = 1; l <= this.layers.length; l++) {
      const { len } = this.layers[l - 1]!;
      lo = Math.max(0, lo - this.config.kernelSize + 1);
      hi = Math.min(len - 1, hi);
      for (let p = lo; p <= hi; p++) this.compute(state, l, p);
    }
  }

  /** The session's embedding (D values), written into `out` when given. */
  embedding(state: SessionEncoderState, out = new Float32Array(this.config.embeddingDim)): Float32Array {
    const d = this.config.embeddingDim;
    const { len, cout } = this.layers.at(-1)!;
    const acc = this.acc;
    for (let j = 0; j < d; j++) acc[j] = this.embedBias[j]!;
    const w = this.embedKernel;
    for (let c = 0; c < cout; c++) {
      const m = state.sum[c]! / len;
      if (m === 0) continue;
      const base = c * d;
      for (let j = 0; j < d; j++) acc[j]! += m * w[base + j]!;
    }
    for (let j = 0; j < d; j++) out[j] = acc[j]!;
    return out;
  }

  /** Recomputes layer l at logical position p from layer l−1; keeps the running sum in step. */
  private compute(state: SessionEncoderState, l: number, p: number): void {
    const layer = this.layers[l - 1]!;
    const { cin, cout, kernel, bias } = layer;
    const k = this.config.kernelSize;
    const below = state.layers[l - 1]!;
    const belowLen = l === 1 ? this.config.rows : this.layers[l - 2]!.len;
    const belowStart = state.starts[l - 1]!;
    const acc = this.acc;
    for (let c = 0; c < cout; c++) acc[c] = bias[c]!;
    for (let j = 0; j < k; j++) {
      const src = ((belowStart + p + j) % belowLen) * cin;
      const wj = j * cin * cout;
      for (let ci = 0; ci < cin; ci++) {
        const x = below[src + ci]!;
        if (x === 0) continue; // journey rows are mostly one-hot zeros
        const wb = wj + ci * cout;
        for (let c = 0; c < cout; c++) acc[c]! += x * kernel[wb + c]!;
      }
    }
    const out = state.layers[l]!;
    const dst = ((state.starts[l]! + p) % layer.len) * cout;
    const isLast = l === this.layers.length;
    for (let c = 0; c < cout; c++) {
      const v = Math.fround(acc[c]! > 0 ? acc[c]! : 0);
      if (isLast) state.sum[c]! += v - out[dst + c]!;
      out[dst + c] = v;
    }
  }

  private resum(state: SessionEncoderState): void {
    const { len, cout } = this.layers.at(-1)!;
    const buf = state.layers.at(-1)!;
    state.sum.fill(0);
    for (let p = 0; p < len; p++) for (let c = 0; c < cout; c++) state.sum[c]! += buf[p * cout + c]!;
    state.slides = 0;
  }
}
