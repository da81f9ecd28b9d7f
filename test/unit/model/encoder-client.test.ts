import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/model/backend.ts';
import { type BatchInfo, EncoderClient } from '../../../src/model/encoder-client.ts';
import { AutoencoderModel, defaultEncoderConfig } from '../../../src/model/encoder-model.ts';
import { syntheticImages } from '../../../src/training/synthetic.ts';

const config = { ...defaultEncoderConfig };
const SIZE = config.rows * config.cols;

describe('EncoderClient (worker thread)', () => {
  let model: AutoencoderModel;
  let client: EncoderClient;
  const batches: BatchInfo[] = [];

  beforeAll(async () => {
    await initBackend();
    model = AutoencoderModel.create(config, 3);
    client = await EncoderClient.start(model, { maxBatch: 256, onBatch: (b) => batches.push(b) });
  });
  afterAll(async () => {
    await client.close();
    model.dispose();
  });

  it('returns the same embeddings as encoding in this thread, for many concurrent requests', async () => {
    const { images } = syntheticImages(300, config.rows, config.cols, 4);
    const sizes = [1, 7, 64, 3, 200, 25];
    let at = 0;
    const requests = sizes.map((n) => {
      const part = images.subarray(at * SIZE, (at + n) * SIZE);
      at += n;
      return { part, n, result: client.encode(part, n) };
    });
    for (const r of requests) {
      const got = await r.result;
      const want = model.encodeImages(r.part, r.n);
      expect(got.length).toBe(r.n * config.embeddingDim);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThanOrEqual(1e-5);
    }
    // Concurrent requests are packed into batches no larger than maxBatch.
    expect(batches.length).toBeGreaterThan(0);
    expect(Math.max(...batches.map((b) => b.size))).toBeLessThanOrEqual(256);
    expect(batches.reduce((a, b) => a + b.size, 0)).toBe(300);
    expect(batches.length).toBeLessThan(sizes.length);
  });

  it('leaves the worker tensor count flat over 100,000 encodes in batches of 256', async () => {
    const { images } = syntheticImages(256, config.rows, config.cols, 5);
    await client.encode(images, 256);
    const before = (await client.stats()).numTensors;
    const total = 100_000;
    const pending: Array<Promise<Float32Array>> = [];
    for (let done = 0; done < total; done += 256) {
      const n = Math.min(256, total - done);
      pending.push(client.encode(images.subarray(0, n * SIZE), n));
      if (pending.length >= 4) await pending.shift();
    }
    await Promise.all(pending);
    const after = (await client.stats()).numTensors;
    expect(before).toBeGreaterThan(0); // the model's own weights
    expect(after).toBe(before);
    expect(client.tensorCount).toBe(before);
  }, 120_000);

  it('keeps the event loop free while the worker encodes', async () => {
    const { images } = syntheticImages(256, config.rows, config.cols, 6);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const work: Array<Promise<Float32Array>> = [];
    for (let i = 0; i < 20; i++) work.push(client.encode(images, 256));
    await Promise.all(work);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });

  it('swaps models without dropping queued requests', async () => {
    const other = AutoencoderModel.create({ ...config, embeddingDim: 8 }, 9);
    const { images } = syntheticImages(10, config.rows, config.cols, 7);
    const before = client.encode(images, 10);
    await client.setModel(other);
    const after = await client.encode(images, 10);
    expect((await before).length).toBe(10 * config.embeddingDim);
    expect(after.length).toBe(10 * 8);
    expect(Array.from(after)).toEqual(Array.from(other.encodeImages(images, 10)).map((v) => expect.closeTo(v, 5)));
    await client.setModel(model);
    other.dispose();
  });

  it('rejects a request whose size does not match the image spec', async () => {
    await expect(client.encode(new Float32Array(10), 1)).rejects.toThrow(/32×22/);
  });
});
