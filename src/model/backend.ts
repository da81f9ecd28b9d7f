// Picks the TF.js backend once per thread: tfjs-node when it is installed and loads (it is an
// optional extra, never a dependency, because its install downloads libtensorflow), else
// WebAssembly, else plain JS. The chosen name is returned for logs and a metric label.
// Inference only: gradients and the wasm training kernels are training's (training/gradients.ts).
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendOptions {
  /** Force one backend; undefined = best available. */
  prefer?: BackendName;
  /** Called once per backend that could not be initialised, with the reason. */
  onFallback?: (name: BackendName, reason: string) => void;
}

let chosen: Promise<BackendName> | undefined;
let wasmPathsSet = false;

/** The directory holding tfjs-backend-wasm's .wasm binaries (read from disk, never fetched). */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function tryTfjsNode(): Promise<boolean> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
  } catch {
    return false;
  }
  return tf.findBackend('tensorflow') !== null || tf.findBackendFactory('tensorflow') !== null;
}

async function trySet(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow' && !(await tryTfjsNode())) return false;
  if (name === 'wasm' && !wasmPathsSet) {
    setWasmPaths(wasmBinaryDir() + path.sep);
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend(name);
  if (!ok) return false;
  await tf.ready();
  return true;
}

/**
 * Initialises TF.js in this thread and resolves to the backend in use. Later calls return the
 * same answer (a thread has one engine); `prefer` only matters on the first call.
 */
export function initBackend(options: BackendOptions = {}): Promise<BackendName> {
  chosen ??= (async () => {
    // PROD skips debug-only checks and the cpu backend's "install tfjs-node" console banner.
    tf.env().set('PROD', true);
    const order: BackendName[] = options.prefer === undefined ? [...BACKEND_NAMES] : [options.prefer];
    for (const name of order) {
      try {
        if (await trySet(name)) return name;
        options.onFallback?.(name, 'not installed or not registered');
      } catch (err) {
        options.onFallback?.(name, err instanceof Error ? err.message : String(err));
      }
    }
    throw new JourneylensError(ErrorCodes.BACKEND_UNAVAILABLE, `no TF.js backend could be initialised (tried ${order.join(', ')})`);
  })();
  return chosen;
}

/**
 * Switches this thread to another backend (benchmarks and tests compare backends in one
 * process). Tensors made on the previous backend must not be used afterwards.
 */
export async function switchBackend(name: BackendName): Promise<void> {
  if (!(await trySet(name))) throw new JourneylensError(ErrorCodes.BACKEND_UNAVAILABLE, `TF.js backend '${name}' is not available`);
  chosen = Promise.resolve(name);
}

/** Live tensor count of this thread's engine (the `journeylens_tensors` gauge). */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}
