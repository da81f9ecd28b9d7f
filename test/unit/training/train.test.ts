import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/model/backend.ts';
import { syntheticImages } from '../../../src/training/synthetic.ts';
import { type TrainProgress, trainAutoencoder } from '../../../src/training/train.ts';
import { ENCODER_JSON, ENCODER_WEIGHTS, loadEncoder, readEncoderWeights, saveEncoder } from '../../../src/model/weights-io.ts';

const H = 32;
const W = 22;
const N = 600;
const data = syntheticImages(N, H, W, 21);

describe('trainAutoencoder', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(path.join(os.tmpdir(), 'journeylens-encoder-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lowers the reconstruction loss and reports progress', async () => {
    const progress: TrainProgress[] = [];
    const r = await trainAutoencoder(data.images, N, H, W, {
      epochs: 4, batchSize: 32, seed: 1, progressEvery: 5, onProgress: (p) => progress.push(p),
    });
    expect(r.history).toHaveLength(4);
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
    expect(r.bestValLoss).toBeLessThan(r.history[0]!.valLoss + 1e-9);
    expect(r.trainCount + r.validationCount).toBe(N);
    expect(r.validationCount).toBe(60);
    expect(progress.filter((p) => p.phase === 'epoch')).toHaveLength(4);
    expect(progress.some((p) => p.phase === 'batch' && p.imagesPerSecond > 0)).toBe(true);
    r.model.dispose();
  });

  it('is reproducible: the same seed gives identical weights and embeddings', async () => {
    const run = async (seed: number): Promise<Float32Array> => {
      const r = await trainAutoencoder(data.images, N, H, W, { epochs: 2, batchSize: 64, seed });
      const z = r.model.encodeImages(data.images.subarray(0, 20 * H * W), 20);
      r.model.dispose();
      return z;
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it('churn objective: weight 0 trains the plain autoencoder; a weight trains the embedding to separate the labels', async () => {
    // labels: pattern 0 churns, the others stay, a tenth unlabelled (no churn term for them)
    const labels = Float32Array.from(data.patterns, (p, i) => (i % 10 === 9 ? Number.NaN : p === 0 ? 1 : 0));
    const embed = async (churn?: { labels: Float32Array; weight: number }): Promise<Float32Array> => {
      const r = await trainAutoencoder(data.images, N, H, W, { epochs: 2, batchSize: 64, seed: 5, ...(churn ? { churn } : {}) });
      const z = r.model.encodeImages(data.images, N);
      r.model.dispose();
      return z;
    };
    const plain = await embed();
    expect(Array.from(await embed({ labels, weight: 0 }))).toEqual(Array.from(plain));
    const supervised = await embed({ labels, weight: 1 });
    expect(Array.from(supervised)).not.toEqual(Array.from(plain));
    // Fisher ratio of the labelled classes along the best single embedding axis
    const separation = (z: Float32Array): number => {
      let best = 0;
      for (let d = 0; d < 16; d++) {
        const v = [0, 1].map((c) => Array.from({ length: N }, (_, i) => i).filter((i) => labels[i] === c).map((i) => z[i * 16 + d]!));
        const m = v.map((xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
        const s2 = v.map((xs, c) => xs.reduce((a, b) => a + (b - m[c]!) ** 2, 0) / xs.length);
        best = Math.max(best, (m[0]! - m[1]!) ** 2 / (s2[0]! + s2[1]! + 1e-12));
      }
      return best;
    };
    expect(separation(supervised)).toBeGreaterThan(separation(plain));
  });

  it('stops early when validation loss stops improving and keeps the best epoch', async () => {
    // A learning rate far too high makes validation loss stall at once.
    const r = await trainAutoencoder(data.images, N, H, W, { epochs: 30, batchSize: 64, seed: 2, learningRate: 0.5, patience: 2 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(30);
    expect(r.history[r.bestEpoch - 1]!.valLoss).toBe(r.bestValLoss);
    r.model.dispose();
  });

  it('rejects inconsistent input with a message naming the field', async () => {
    await expect(trainAutoencoder(new Float32Array(10), 2, H, W)).rejects.toThrow(/train: images has 10 values/);
    await expect(trainAutoencoder(data.images, N, H, W, { validationSplit: 1 })).rejects.toThrow(/validationSplit/);
    await expect(trainAutoencoder(data.images, N, H, W, { churn: { labels: new Float32Array(N - 1), weight: 1 } })).rejects.toThrow(/churn\.labels has 599 values; one per image needs 600/);
    await expect(trainAutoencoder(data.images, N, H, W, { churn: { labels: new Float32Array(N), weight: -1 } })).rejects.toThrow(/churn\.weight must be a finite number ≥ 0 \(got -1\)/);
  });

  for (const kind of ['temporal', 'cnn2d'] as const) {
    it(`save → load gives identical embeddings (${kind})`, async () => {
      const r = await trainAutoencoder(data.images, N, H, W, { epochs: 1, seed: 3, config: { kind, embeddingDim: 12 } });
      const out = path.join(dir, kind);
      const files = await saveEncoder(r.model, out);
      expect(files.map((f) => path.basename(f))).toEqual([ENCODER_JSON, ENCODER_WEIGHTS]);
      const before = tf.memory().numTensors;
      const loaded = await loadEncoder(out);
      const x = data.images.subarray(0, 50 * H * W);
      expect(Array.from(loaded.encodeImages(x, 50))).toEqual(Array.from(r.model.encodeImages(x, 50)));
      expect(loaded.config).toEqual(r.model.config);
      expect(loaded.hasDecoder).toBe(false);
      loaded.dispose();
      r.model.dispose();
      expect(tf.memory().numTensors).toBeLessThan(before);
    });
  }

  it('refuses damaged encoder files with a message naming the file and the problem', async () => {
    const r = await trainAutoencoder(data.images.subarray(0, 100 * H * W), 100, H, W, { epochs: 1, seed: 4 });
    const out = path.join(dir, 'damaged');
    await saveEncoder(r.model, out);
    r.model.dispose();
    const jsonPath = path.join(out, ENCODER_JSON);
    const binPath = path.join(out, ENCODER_WEIGHTS);
    const json = await readFile(jsonPath, 'utf8');
    const bin = await readFile(binPath);

    await writeFile(binPath, bin.subarray(0, bin.length - 4));
    await expect(readEncoderWeights(out)).rejects.toThrow(/encoder\.weights\.bin: has \d+ bytes; encoder\.json describes \d+/);
    await writeFile(binPath, bin);

    await writeFile(jsonPath, json.slice(0, 50));
    await expect(readEncoderWeights(out)).rejects.toThrow(/encoder\.json: is not valid JSON/);

    await writeFile(jsonPath, json.replace('"formatVersion": 1', '"formatVersion": 99'));
    await expect(readEncoderWeights(out)).rejects.toThrow(/format version 99/);

    await writeFile(jsonPath, json.replace('"embeddingDim": 16', '"embeddingDim": 8'));
    await expect(readEncoderWeights(out)).rejects.toThrow(/parameter 'embed\/kernel' has shape \[32, 16\]; the config needs \[32, 8\]/);

    await rm(binPath);
    await writeFile(jsonPath, json);
    await expect(readEncoderWeights(out)).rejects.toThrow(/encoder\.weights\.bin: cannot be read \(ENOENT\)/);
    await expect(readEncoderWeights(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });
});
