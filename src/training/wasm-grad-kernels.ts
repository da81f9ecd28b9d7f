// Training kernels for the WebAssembly backend (tfjs-backend-wasm 4.22). Each is composed
// from kernels wasm runs fast (forward Conv2D and matMul go through XNNPACK):
// - Conv2DBackpropFilter: missing on wasm, so conv training fails there without it.
// - Conv2DBackpropInput: present but ~7× slower than the equivalent forward conv.
// - BatchMatMul with transposeA/transposeB (what every matMul gradient uses): ~10–20× slower
//   than transposing first; measured 0.3 vs 6 GFLOP/s on a 64×128×704 product.
import {
  backend_util,
  BatchMatMul,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  type KernelBackend,
} from '@tensorflow/tfjs-core';
import { ErrorCodes, JourneylensError } from '../errors.ts';

const BACKEND = 'wasm';

type Args = { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs?: NamedAttrMap };

function kernel(name: string): KernelFunc {
  const k = getKernel(name, BACKEND);
  if (k === undefined) throw new JourneylensError(ErrorCodes.BACKEND_UNAVAILABLE, `wasm backend has no '${name}' kernel to build gradients from`);
  return k.kernelFunc;
}

function run(name: string, backend: KernelBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  return kernel(name)({ inputs, backend, attrs }) as TensorInfo;
}

/**
 * dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·s+a−pt, j·s+b−pl, ci] · dy[n,i,j,co] is itself a forward
 * convolution: take x as [Cin, H, W, N] (channels become the batch), dy as a [oh, ow, N, Cout]
 * filter, stride 1 and dilation = the original stride. Bottom/right padding is chosen so the
 * output is exactly fh×fw; rows a strided 'valid' conv never read are sliced off first.
 */
function conv2DBackpropFilter(args: Args): TensorInfo {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const x = inputs['x'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  if (attrs.dataFormat === 'NCHW') throw new JourneylensError(ErrorCodes.INTERNAL, 'wasm Conv2DBackpropFilter supports only NHWC (channelsLast)');
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const info = backend_util.computeConv2DInfo(
    [n, h, w, cin],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let bottom = fh + (oh - 1) * sh - h - top;
  let right = fw + (ow - 1) * sw - w - left;
  const temps: TensorInfo[] = [];
  let xs = x;
  if (bottom < 0 || right < 0) {
    const keepH = h + Math.min(0, bottom);
    const keepW = w + Math.min(0, right);
    xs = run('Slice', backend, { x }, { begin: [0, 0, 0, 0], size: [n, keepH, keepW, cin] });
    temps.push(xs);
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  const xT = run('Transpose', backend, { x: xs }, { perm: [3, 1, 2, 0] });
  temps.push(xT);
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  temps.push(dyT);
  const conv = run(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
    } as unknown as NamedAttrMap,
  );
  temps.push(conv);
  const out = run('Transpose', backend, { x: conv }, { perm: [1, 2, 0, 3] });
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

/**
 * dx of a conv is a forward conv of dy (zero-stuffed by the stride) with the filter rotated by
 * 180° and its in/out channels swapped: dx[p] = Σ_b dyPad[p+b] · W[fh−1−b], where dyPad has
 * fh−1−padTop zeros in front. Falls back to wasm's own kernel for layouts this does not cover.
 */
function conv2DBackpropInputVia(original: KernelFunc) {
  return (args: Args): TensorInfo => {
    const { inputs, backend } = args;
    const attrs = (args.attrs ?? {}) as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: [number, number, number, number];
    };
    const dy = inputs['dy'] as TensorInfo;
    const filter = inputs['filter'] as TensorInfo;
    if (attrs.dataFormat === 'NCHW') return original(args as never) as TensorInfo;
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const [n, h, w, cin] = attrs.inputShape;
    const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, outChannels: cout } = info;
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    // Zero-stuffing leaves s−1 trailing zeros after the last row/column; fold them into the pad.
    let bottom = h + info.padInfo.top - (oh - 1) * sh - 1 - (sh - 1);
    let right = w + info.padInfo.left - (ow - 1) * sw - 1 - (sw - 1);
    if (top < 0 || left < 0) return original(args as never) as TensorInfo;
    const temps: TensorInfo[] = [];
    let d = dy;
    if (sh > 1 || sw > 1) {
      const r6 = run('Reshape', backend, { x: dy }, { shape: [n, oh, 1, ow, 1, cout] });
      temps.push(r6);
      const padded = run('PadV2', backend, { x: r6 }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0,
      } as unknown as NamedAttrMap);
      temps.push(padded);
      d = run('Reshape', backend, { x: padded }, { shape: [n, oh * sh, ow * sw, cout] });
      temps.push(d);
    }
    if (bottom < 0 || right < 0) {
      const sliced = run('Slice', backend, { x: d }, {
        begin: [0, 0, 0, 0],
        size: [n, d.shape[1]! + Math.min(0, bottom), d.shape[2]! + Math.min(0, right), cout],
      });
      temps.push(sliced);
      d = sliced;
      bottom = Math.max(0, bottom);
      right = Math.max(0, right);
    }
    const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
    temps.push(flipped);
    const swapped = run('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    temps.push(swapped);
    const out = run('Conv2D', backend, { x: d, filter: swapped }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    } as unknown as NamedAttrMap);
    for (const t of temps) if (t !== dy) backend.disposeData(t.dataId);
    if (out.shape[1] !== h || out.shape[2] !== w || out.shape[3] !== cin) {
      backend.disposeData(out.dataId);
      return original(args as never) as TensorInfo;
    }
    return out;
  };
}

/** matMul(a, b, transposeA, transposeB) → transpose the flagged operand, then a plain matMul. */
function batchMatMulVia(original: KernelFunc) {
  return (args: Args): TensorInfo => {
    const { inputs, backend } = args;
    const attrs = (args.attrs ?? {}) as unknown as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original(args as never) as TensorInfo;
    const temps: TensorInfo[] = [];
    const flip = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
      const out = run('Transpose', backend, { x: t }, { perm });
      temps.push(out);
      return out;
    };
    const a = attrs.transposeA ? flip(inputs['a'] as TensorInfo) : (inputs['a'] as TensorInfo);
    const b = attrs.transposeB ? flip(inputs['b'] as TensorInfo) : (inputs['b'] as TensorInfo);
    const out = original({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } } as never) as TensorInfo;
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

const replaced = new Set<string>();

function replace(kernelName: string, wrap: (original: KernelFunc) => KernelFunc): void {
  if (replaced.has(kernelName)) return;
  const original = getKernel(kernelName, BACKEND);
  if (original === undefined) return;
  unregisterKernel(kernelName, BACKEND);
  registerKernel({ ...original, kernelFunc: wrap(original.kernelFunc) });
  replaced.add(kernelName);
}

/** The kernels added (not replaced) on wasm. */
export const wasmGradKernelConfigs: KernelConfig[] = [
  { kernelName: Conv2DBackpropFilter, backendName: BACKEND, kernelFunc: conv2DBackpropFilter as KernelFunc },
];

/**
 * Registers the missing kernels and swaps in the faster compositions, once per process (the
 * kernel registry is global). A kernel wasm gains in a later release is left alone.
 */
export function registerWasmGradKernels(): void {
  for (const config of wasmGradKernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) === undefined) registerKernel(config);
  }
  replace(Conv2DBackpropInput, (k) => conv2DBackpropInputVia(k) as KernelFunc);
  replace(BatchMatMul, (k) => batchMatMulVia(k) as KernelFunc);
}
