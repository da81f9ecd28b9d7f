import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/model/backend.ts';
import { AutoencoderModel, defaultEncoderConfig, type EncoderConfig } from '../../../src/model/encoder-model.ts';
import { seededRandom as mulberry32, type Random as Rng } from '../../../src/util/prng.ts';
import { StreamingEncoder, type RowFill } from '../../../src/model/streaming-encoder.ts';

const H = 12;
const W = 9;
const config: EncoderConfig = { ...defaultEncoderConfig, rows: H, cols: W, channels: [8, 6, 5], kernelSize: 3, embeddingDim: 4 };

/** A journey-like row: one-hot type, a continuous column or two, sometimes all-zero. */
function randomRow(rng: Rng): Float32Array {
  const row = new Float32Array(W);
  row[Math.floor(rng() * (W - 2))] = 1;
  row[W - 2] = rng();
  row[W - 1] = rng() < 0.3 ? rng() : 0;
  return row;
}

/** The window image a rasterizer would produce for `steps` under each fill rule. */
function windowImage(steps: Float32Array[], fill: RowFill): Float32Array {
  const img = new Float32Array(H * W);
  const visible = steps.slice(-H);
  const first = fill === 'bottom' ? H - visible.length : 0;
  visible.forEach((row, i) => img.set(row, (first + i) * W));
  return img;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('StreamingEncoder', () => {
  let model: AutoencoderModel;
  beforeAll(async () => {
    await initBackend();
    model = AutoencoderModel.create(config, 7);
  });

  for (const fill of ['bottom', 'top'] as const) {
    it(`matches encoding the current window from scratch after every event (fill=${fill})`, () => {
      const stream = StreamingEncoder.fromModel(model, fill);
      const rng = mulberry32(fill === 'bottom' ? 11 : 12);
      let worst = 0;
      let compared = 0;
      for (let session = 0; session < 12; session++) {
        const length = 1 + Math.floor(rng() * 3 * H); // short, exactly-H and much longer sessions
        const state = stream.newSession();
        const steps: Float32Array[] = [];
        const images = new Float32Array(length * H * W);
        const streamed = new Float32Array(length * config.embeddingDim);
        for (let e = 0; e < length; e++) {
          const row = randomRow(rng);
          steps.push(row);
          stream.push(state, row);
          images.set(windowImage(steps, fill), e * H * W);
          stream.embedding(state, streamed.subarray(e * config.embeddingDim, (e + 1) * config.embeddingDim));
        }
        const scratch = model.encodeImages(images, length);
        worst = Math.max(worst, maxAbsDiff(streamed, scratch));
        compared += length;
      }
      expect(compared).toBeGreaterThan(100);
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  }

  it('follows in-place row updates (time-bucket rows) exactly', () => {
    const stream = StreamingEncoder.fromModel(model);
    const rng = mulberry32(5);
    const image = new Float32Array(H * W);
    const state = stream.fromImage(image);
    for (let e = 0; e < 200; e++) {
      const r = Math.floor(rng() * H);
      const row = randomRow(rng);
      image.set(row, r * W);
      stream.setRow(state, r, row);
      if (e % 17 === 0) expect(maxAbsDiff(stream.embedding(state), model.encodeImages(image, 1))).toBeLessThanOrEqual(1e-5);
    }
    expect(maxAbsDiff(stream.embedding(state), model.encodeImages(image, 1))).toBeLessThanOrEqual(1e-5);
  });

  it('does not drift over a long session', () => {
    const stream = StreamingEncoder.fromModel(model);
    const rng = mulberry32(9);
    const state = stream.newSession();
    const steps: Float32Array[] = [];
    for (let e = 0; e < 20_000; e++) {
      const row = randomRow(rng);
      steps.push(row);
      if (steps.length > H) steps.shift();
      stream.push(state, row);
    }
    expect(maxAbsDiff(stream.embedding(state), model.encodeImages(windowImage(steps, 'bottom'), 1))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a 2-D CNN model, whose embedding cannot be updated incrementally', () => {
    const cnn = AutoencoderModel.create({ ...config, kind: 'cnn2d', channels: [4, 4] }, 1);
    expect(() => StreamingEncoder.fromModel(cnn)).toThrow(/'temporal' encoder/);
    cnn.dispose();
  });
});
