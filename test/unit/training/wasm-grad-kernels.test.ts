import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, switchBackend } from '../../../src/model/backend.ts';
import { enableGradients } from '../../../src/training/gradients.ts';
import { seededRandom as mulberry32 } from '../../../src/util/prng.ts';

function randoms(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

async function onBackend<T>(name: 'wasm' | 'cpu', f: () => Promise<T>): Promise<T> {
  await switchBackend(name);
  return f();
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number | [number, number];
  pad: 'valid' | 'same';
}

const convCases: ConvCase[] = [
  { x: [3, 1, 32, 22], f: [1, 3, 22, 16], stride: 1, pad: 'valid' }, // the temporal encoder's conv1d
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 32, 22, 1], f: [3, 3, 1, 8], stride: 2, pad: 'same' }, // the 2-D CNN's first layer
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], stride: 2, pad: 'same' },
  { x: [2, 10, 8, 3], f: [3, 3, 3, 4], stride: 2, pad: 'valid' }, // rows the strided conv never reads
  { x: [2, 11, 8, 3], f: [2, 2, 3, 5], stride: [3, 2], pad: 'valid' },
];

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    enableGradients();
  });
  afterAll(async () => {
    await switchBackend('wasm');
  });

  for (const c of convCases) {
    it(`conv2d gradients equal the cpu backend's: x ${c.x.join('×')}, filter ${c.f.join('×')}, stride ${String(c.stride)}, ${c.pad}`, async () => {
      const xv = randoms(c.x.reduce((a, b) => a * b), 1);
      const fv = randoms(c.f.reduce((a, b) => a * b), 2);
      const grads = async (): Promise<Float32Array[]> => {
        const x = tf.tensor4d(xv, c.x);
        const f = tf.tensor4d(fv, c.f);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))));
        const [gx, gf] = g([x, f]);
        const out = [(await gx!.data()) as Float32Array, (await gf!.data()) as Float32Array];
        tf.dispose([x, f, gx!, gf!]);
        return out;
      };
      const wasm = await onBackend('wasm', grads);
      const cpu = await onBackend('cpu', grads);
      // Relative to the gradient's scale: sums of ~100 products of values in [-1, 1].
      const scale = Math.max(1, ...Array.from(cpu[1]!, Math.abs));
      expect(maxAbsDiff(wasm[0]!, cpu[0]!) / scale).toBeLessThan(1e-4);
      expect(maxAbsDiff(wasm[1]!, cpu[1]!) / scale).toBeLessThan(1e-4);
      expect(Math.max(...Array.from(cpu[1]!, Math.abs))).toBeGreaterThan(0);
    });
  }

  for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
    it(`transposed matMul (transposeA=${ta}, transposeB=${tb}) and its gradient equal the cpu backend's`, async () => {
      const av = randoms(6 * 5, 3);
      const bv = randoms(6 * 7, 4);
      const run = async (): Promise<Float32Array[]> => {
        const a = tf.tensor2d(av, ta ? [6, 5] : [5, 6]);
        const b = tf.tensor2d(bv, tb ? [7, 6] : [6, 7]);
        const y = tf.matMul(a, b, ta, tb);
        const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, ta, tb))))([a, b]);
        const out = [(await y.data()) as Float32Array, (await ga!.data()) as Float32Array, (await gb!.data()) as Float32Array];
        tf.dispose([a, b, y, ga!, gb!]);
        return out;
      };
      const wasm = await onBackend('wasm', run);
      const cpu = await onBackend('cpu', run);
      for (let i = 0; i < 3; i++) expect(maxAbsDiff(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4);
    });
  }

  it('leaves no intermediate tensors behind', async () => {
    await switchBackend('wasm');
    const x = tf.tensor4d(randoms(2 * 9 * 7 * 3, 5), [2, 9, 7, 3]);
    const f = tf.tensor4d(randoms(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
    tf.dispose(g([x, f]));
    const before = tf.memory();
    for (let i = 0; i < 5; i++) tf.dispose(g([x, f]));
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, f]);
  });
});
