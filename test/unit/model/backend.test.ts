import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, liveTensorCount, switchBackend, wasmBinaryDir } from '../../../src/model/backend.ts';

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

// tfjs-node is an optional extra (these machines cannot install it); without it, wasm wins.
const expected = tfjsNodeInstalled() ? 'tensorflow' : 'wasm';

describe('initBackend', () => {
  it(`picks the best installed backend (${expected} here) and keeps that answer`, async () => {
    const fallbacks: string[] = [];
    const name = await initBackend({ onFallback: (n, reason) => fallbacks.push(`${n}: ${reason}`) });
    expect(name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(fallbacks).toEqual(expected === 'wasm' ? ['tensorflow: not installed or not registered'] : []);
    expect(await initBackend({ prefer: 'cpu' })).toBe(expected);
  });

  it('loads the wasm binaries from disk', () => {
    expect(existsSync(path.join(wasmBinaryDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('switches between the installed backends and refuses a missing one', async () => {
    await initBackend();
    await switchBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await switchBackend(expected);
    if (expected === 'wasm') await expect(switchBackend('tensorflow')).rejects.toThrow(/'tensorflow' is not available/);
    expect(tf.getBackend()).toBe(expected);
  });

  it('reports the live tensor count', async () => {
    await initBackend();
    const before = liveTensorCount();
    const t = tf.zeros([2, 2]);
    expect(liveTensorCount()).toBe(before + 1);
    t.dispose();
    expect(liveTensorCount()).toBe(before);
  });
});
