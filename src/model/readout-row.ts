// The churn readout's feature row, built the same way in training and serving: the embedding,
// the assigned centroid's churn rate, the labelled-neighbour churn rate, and optionally the
// image's column means ("img:<column>": per event type the mean of its log-scaled per-row
// value, plus mean dwell/gap/value). The column means are cheap pooled statistics of the very
// image the encoder sees; they carry per-type volume, which a reconstruction-trained embedding
// keeps only loosely (see docs/quality.md). Which features a bundle uses is read from the
// readout's featureNames, so older readouts without image features keep working.
//
// "quietMinutes" is log1p of how long the session has been quiet when it is scored (minutes
// from its last event to the view's asOf): 0 for an update taken at an event, the silence so
// far for a quiet re-score or a close. The image ends at the last event, so without it a
// session that stopped a week ago looks like one that is still going; on KDD it is the single
// strongest churn feature (docs/quality.md).
import { quietMs, type SessionView } from '../journey/session-view.ts';
import { imageColumns, type ImageSpec } from '../journey/image-spec.ts';
import { type Vector } from './vectors.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export const IMAGE_FEATURE_PREFIX = 'img:';
export const QUIET_FEATURE = 'quietMinutes';
export const AGE_FEATURE = 'ageMinutes';

export function imageFeatureNames(spec: ImageSpec): string[] {
  return imageColumns(spec).map((c) => `${IMAGE_FEATURE_PREFIX}${c}`);
}

export interface ReadoutInputs {
  embedding: Vector;
  clusterChurnRate: number;
  knnChurnRate: number;
  /** The rasterized image, row-major [rows, cols]. */
  image: Float32Array;
  rows: number;
  cols: number;
  /** When the session was scored (asOf), its last event (windowEnd) and its first (sessionStart). */
  timing: Pick<SessionView, 'asOf' | 'windowEnd' | 'sessionStart'>;
}

/** One feature row in `featureNames` order (emb<j>, clusterChurnRate, knnChurnRate, quietMinutes, img:<column>). */
export function buildReadoutRow(featureNames: readonly string[], columns: readonly string[], x: ReadoutInputs): number[] {
  let means: Float64Array | undefined;
  return featureNames.map((name) => {
    if (name.startsWith('emb')) return x.embedding[Number(name.slice(3))]!;
    if (name === 'clusterChurnRate') return x.clusterChurnRate;
    if (name === 'knnChurnRate') return x.knnChurnRate;
    if (name === QUIET_FEATURE) return Math.log1p(quietMs(x.timing) / 60_000);
    if (name === AGE_FEATURE) return Math.log1p(Math.max(0, x.timing.asOf - x.timing.sessionStart) / 60_000);
    if (name.startsWith(IMAGE_FEATURE_PREFIX)) {
      if (!means) {
        means = new Float64Array(x.cols);
        for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) means[c]! += x.image[r * x.cols + c]!;
        for (let c = 0; c < x.cols; c++) means[c]! /= x.rows;
      }
      const j = columns.indexOf(name.slice(IMAGE_FEATURE_PREFIX.length));
      if (j < 0) throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `readout feature ${name} names no image column`);
      return means[j]!;
    }
    throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `unknown readout feature ${name}`);
  });
}
