// What training needs from TF.js beyond inference: gradient functions and, on the wasm backend,
// the training kernels it lacks or runs slowly (wasm-grad-kernels.ts). Serving never loads this
// file, so `journeylens run` starts without tfjs-layers and without the kernel swap.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node (CJS) build registers no gradient functions; tfjs-layers' Node build
// registers all of core's, so this side-effect import is what makes training possible.
import '@tensorflow/tfjs-layers';
import { registerWasmGradKernels } from './wasm-grad-kernels.ts';

/**
 * Makes the current backend trainable: call after initBackend/switchBackend and before taking
 * gradients. Registers the wasm training kernels once per process (the registry is global;
 * they apply to the wasm backend only).
 */
export function enableGradients(): void {
  if (tf.getBackend() === 'wasm') registerWasmGradKernels();
}
