// Rasterizer: a session's packed rows → an H×W image in [0,1], laid out row-major in a
// Float32Array (row = step or time bucket, oldest at row 0; unused rows stay 0).
// Pure and deterministic: training and serving call this same function on the same packed
// rows, so there is no skew between the images a model learnt and the ones it scores.
import { type ImageSpec, imageWidth } from './image-spec.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

/** Steps mode: the last H events in event-time order. Timestamps are ms offsets from `base`. */
export interface StepRows {
  readonly mode: 'steps';
  readonly len: number;
  readonly rel: Uint32Array;
  /** Index into spec.eventTypes, or eventTypes.length for "other". */
  readonly type: Uint8Array;
  /** Page bucket, or NO_PAGE. */
  readonly page: Uint8Array;
  /** Dwell and value already scaled to [0,1] and quantised to a byte (see quantize*). */
  readonly dwell: Uint8Array;
  readonly value: Uint8Array;
  /** Offset of the newest event that fell out of the window (the gap of row 0), or -1. */
  readonly prevRel: number;
}

/** Buckets mode: H consecutive time buckets starting at absolute bucket `start`. */
export interface BucketRows {
  readonly mode: 'buckets';
  /** Per row, per column (type columns, then page columns): event counts. */
  readonly counts: Uint16Array;
  /** Per row: summed dwell (ms) and summed value (cents); integers, so sums do not depend on order. */
  readonly dwellMs: Float64Array;
  readonly valueCents: Float64Array;
  /** Per row: first and last event time in the bucket (NaN when the bucket is empty). */
  readonly minTs: Float64Array;
  readonly maxTs: Float64Array;
  /** Time of the newest event before row 0 (NaN if none), for row 0's gap. */
  readonly prevTs: number;
}

export type PackedRows = StepRows | BucketRows;

export const NO_PAGE = 255;

/** log1p(x)/log1p(cap) clipped to [0,1]; negative and missing values count as 0. */
export function logScale(x: number, cap: number): number {
  if (!(x > 0)) return 0;
  const v = Math.log1p(x) / Math.log1p(cap);
  return v >= 1 ? 1 : v;
}

/** Dwell (ms) → byte; stored per step instead of the raw number to keep sessions small. */
export function quantizeDwell(durationMs: number | null, spec: ImageSpec): number {
  return Math.round(logScale(durationMs ?? 0, spec.dwellCapMs) * 255);
}

export function quantizeValue(value: number | null, spec: ImageSpec): number {
  return Math.round(logScale(value ?? 0, spec.valueCap) * 255);
}

/** Number of floats an image of this spec takes (H·W). */
export function imageSize(spec: ImageSpec): number {
  return spec.rows * imageWidth(spec);
}

/**
 * Writes the image into `out` (allocated when omitted) and returns it. `out` must hold at least
 * H·W floats; a subarray of a batch buffer works, so a whole encoder batch needs no copies.
 */
export function rasterize(rows: PackedRows, spec: ImageSpec, out?: Float32Array): Float32Array {
  const h = spec.rows;
  const w = imageWidth(spec);
  const img = out ?? new Float32Array(h * w);
  if (img.length < h * w) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `rasterize: out has ${img.length} floats, the image needs ${h * w} (${h}×${w})`);
  img.fill(0, 0, h * w);
  const v = spec.eventTypes.length + 1;
  const dwellCol = v + spec.pageBuckets;
  const gapCol = dwellCol + 1;
  const valueCol = dwellCol + 2;
  if (rows.mode === 'steps') {
    const n = Math.min(rows.len, h);
    for (let r = 0; r < n; r++) {
      const o = r * w;
      img[o + rows.type[r]!] = 1;
      const p = rows.page[r]!;
      if (p !== NO_PAGE && p < spec.pageBuckets) img[o + v + p] = 1;
      img[o + dwellCol] = rows.dwell[r]! / 255;
      const prev = r > 0 ? rows.rel[r - 1]! : rows.prevRel;
      img[o + gapCol] = prev < 0 ? 0 : logScale(rows.rel[r]! - prev, spec.gapCapMs);
      img[o + valueCol] = rows.value[r]! / 255;
    }
    return img;
  }
  const c = v + spec.pageBuckets;
  let lastMax = rows.prevTs;
  for (let r = 0; r < h; r++) {
    const minTs = rows.minTs[r]!;
    if (Number.isNaN(minTs)) continue;
    const o = r * w;
    for (let k = 0; k < c; k++) {
      const n = rows.counts[r * c + k]!;
      if (n > 0) img[o + k] = logScale(n, spec.countCap);
    }
    img[o + dwellCol] = logScale(rows.dwellMs[r]!, spec.dwellCapMs);
    img[o + gapCol] = Number.isNaN(lastMax) ? 0 : logScale(minTs - lastMax, spec.gapCapMs);
    img[o + valueCol] = logScale(rows.valueCents[r]! / 100, spec.valueCap);
    lastMax = rows.maxTs[r]!;
  }
  return img;
}
