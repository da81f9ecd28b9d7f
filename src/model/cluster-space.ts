// The feature space clusters live in: per-column means of the journey image over its occupied
// rows (event-type and page-category shares, mean dwell/gap/value), log1p of the session's
// event count, and optionally the encoder's embedding — each standardised over the training
// sessions and multiplied by a weight (training/cluster-space-fit.ts fits them). Training
// clusters these vectors and builds the centroid HNSW index on them; BundleScorer computes the same vector from the served SessionView's
// image, its eventCount and the embedding (`clusterVector`), so assignment and training agree.
//
// Why not the embedding alone: on the generator's data the reconstruction-trained embedding
// separates archetypes poorly (k-means ARI ≈ 0.2), while the shares over occupied rows recover
// them (ARI ≈ 0.8–0.9; docs/quality.md). Means over *occupied* rows, not all H rows, so a
// short session is not just a scaled-down copy of a long one; length enters once, as log1p.
import { imageColumns, type ImageSpec } from '../journey/image-spec.ts';
import { type Vector } from './vectors.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export interface ClusterSpace {
  version: 1;
  /** "occ:<column>", "logEvents", "emb<j>", in vector order. */
  featureNames: string[];
  /** Standardisation: (x − mean) / sd · weight, folded into mean and factor. */
  mean: number[];
  factor: number[];
}

export interface ClusterInputs {
  /** The rasterized image, row-major [rows, cols]. */
  image: Float32Array;
  rows: number;
  cols: number;
  eventCount: number;
  embedding: Vector;
}

export const OCCUPIED_PREFIX = 'occ:';

export function clusterFeatureNames(spec: ImageSpec, embeddingDim: number, embeddingWeight: number): string[] {
  const names = [...imageColumns(spec).map((c) => `${OCCUPIED_PREFIX}${c}`), 'logEvents'];
  if (embeddingWeight > 0) for (let j = 0; j < embeddingDim; j++) names.push(`emb${j}`);
  return names;
}

/** Unstandardised features in `clusterFeatureNames` order. */
export function rawClusterFeatures(x: ClusterInputs, withEmbedding: boolean): number[] {
  const sums = new Float64Array(x.cols);
  let occupied = 0;
  for (let r = 0; r < x.rows; r++) {
    let any = false;
    for (let c = 0; c < x.cols; c++) {
      const v = x.image[r * x.cols + c]!;
      sums[c]! += v;
      if (v !== 0) any = true;
    }
    if (any) occupied++;
  }
  const out = Array.from(sums, (s) => s / Math.max(1, occupied));
  out.push(Math.log1p(x.eventCount));
  if (withEmbedding) for (let j = 0; j < x.embedding.length; j++) out.push(x.embedding[j]!);
  return out;
}

/** The point clustered at training time and assigned at serving time. */
export function clusterVector(space: ClusterSpace, x: ClusterInputs): Float32Array {
  const out = new Float32Array(space.featureNames.length);
  clusterVectorInto(space, x, space.featureNames.some((n) => n.startsWith('emb')), new Float64Array(x.cols), out, 0);
  return out;
}

/**
 * rawClusterFeatures standardised, written straight into out[at, at + features): the same
 * arithmetic (float64 sums and shares, one rounding to float32 at the end), without its arrays —
 * it runs per scored view (profiled at ~30 µs a view through the arrays, ~1 µs without). `sums`:
 * scratch, cols long.
 */
function clusterVectorInto(space: ClusterSpace, x: ClusterInputs, withEmbedding: boolean, sums: Float64Array, out: Float32Array, at: number): void {
  const length = x.cols + 1 + (withEmbedding ? x.embedding.length : 0);
  if (length !== space.featureNames.length) {
    throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `cluster space has ${space.featureNames.length} features but the image and embedding give ${length}; retrain the bundle`);
  }
  const { image, rows, cols } = x;
  sums.fill(0);
  let occupied = 0;
  for (let r = 0; r < rows; r++) {
    let any = false;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = image[base + c]!;
      sums[c]! += v;
      if (v !== 0) any = true;
    }
    if (any) occupied++;
  }
  const { mean, factor } = space;
  const per = Math.max(1, occupied);
  for (let c = 0; c < cols; c++) out[at + c] = (sums[c]! / per - mean[c]!) * factor[c]!;
  out[at + cols] = (Math.log1p(x.eventCount) - mean[cols]!) * factor[cols]!;
  if (withEmbedding) for (let j = 0, f = cols + 1; j < x.embedding.length; j++, f++) out[at + f] = (x.embedding[j]! - mean[f]!) * factor[f]!;
}

/** Checks a parsed cluster-space.json against the image spec and embedding size; returns a message or null. */
export function clusterSpaceProblem(value: unknown, spec: ImageSpec, embeddingDim: number): string | null {
  const s = value as Partial<ClusterSpace> | null;
  if (!s || s.version !== 1 || !Array.isArray(s.featureNames) || !Array.isArray(s.mean) || !Array.isArray(s.factor)) {
    return 'expected { version: 1, featureNames, mean, factor }';
  }
  const withEmb = s.featureNames.some((n) => String(n).startsWith('emb'));
  const expected = clusterFeatureNames(spec, embeddingDim, withEmb ? 1 : 0);
  if (s.featureNames.length !== expected.length || s.featureNames.some((n, j) => n !== expected[j])) {
    return `its features (${s.featureNames.length}) are not the ones this image spec and ${embeddingDim}-d encoder give (${expected.length})`;
  }
  if (s.mean.length !== expected.length || s.factor.length !== expected.length || [...s.mean, ...s.factor].some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    return 'mean and factor must be finite numbers, one per feature';
  }
  return null;
}

/**
 * Points of a batch: images [n, rows, cols] and embeddings [n, dim], flat, as the trainer and
 * BundleScorer both hold them (one function for both, so they cannot drift apart); the points
 * flat too, [n, features] (clusterPoints: one view per point).
 */
export function clusterPointsFlat(space: ClusterSpace, images: Float32Array, eventCounts: ArrayLike<number>, embeddings: Float32Array, rows: number, cols: number): Float32Array {
  const n = eventCounts.length;
  const size = rows * cols;
  const dim = embeddings.length / Math.max(1, n);
  const features = space.featureNames.length;
  const withEmbedding = space.featureNames.some((name) => name.startsWith('emb'));
  const sums = new Float64Array(cols);
  const out = new Float32Array(n * features);
  for (let i = 0; i < n; i++) {
    const x = { image: images.subarray(i * size, (i + 1) * size), rows, cols, eventCount: eventCounts[i]!, embedding: embeddings.subarray(i * dim, (i + 1) * dim) };
    clusterVectorInto(space, x, withEmbedding, sums, out, i * features);
  }
  return out;
}

export function clusterPoints(space: ClusterSpace, images: Float32Array, eventCounts: ArrayLike<number>, embeddings: Float32Array, rows: number, cols: number): Float32Array[] {
  const flat = clusterPointsFlat(space, images, eventCounts, embeddings, rows, cols);
  const features = space.featureNames.length;
  return Array.from({ length: eventCounts.length }, (_, i) => flat.subarray(i * features, (i + 1) * features));
}
