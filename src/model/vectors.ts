// Distance helpers shared by clustering, centroids and assignment. Embeddings arrive as
// Float32Array rows from the encoder; everything here accepts any numeric row.
import { ErrorCodes, UserError } from '../errors.ts';

export type Vector = ArrayLike<number>;
export type DistanceSpace = 'l2' | 'cosine';

export function squaredL2(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}

export function l2(a: Vector, b: Vector): number {
  return Math.sqrt(squaredL2(a, b));
}

/** 1 − cos(a, b), the same definition hnswlib's 'cosine' space uses. */
export function cosineDistance(a: Vector, b: Vector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

export function distanceFor(space: DistanceSpace): (a: Vector, b: Vector) => number {
  return space === 'cosine' ? cosineDistance : l2;
}

/** Checks that every row has the same, non-zero length; returns it. */
export function checkRows(rows: readonly Vector[], what: string): number {
  const dim = rows[0]?.length ?? 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.length !== dim) {
      throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: row ${i} has ${row.length} values, expected ${dim} like row 0`);
    }
    for (let j = 0; j < dim; j++) {
      if (!Number.isFinite(row[j]!)) {
        throw new UserError(ErrorCodes.INPUT_INVALID, `${what}: row ${i} has a non-finite value at column ${j}`);
      }
    }
  }
  return dim;
}

/** Linear-interpolated quantile (numpy's default) of an unsorted list; q in [0,1]. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
