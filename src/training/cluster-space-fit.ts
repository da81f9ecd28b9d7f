// Fits the cluster space (model/cluster-space.ts) on the training sessions: per-feature
// standardisation over the sessions, times a weight per feature group.
import { type ImageSpec } from '../journey/image-spec.ts';
import { type ClusterSpace, clusterFeatureNames, OCCUPIED_PREFIX } from '../model/cluster-space.ts';

export interface ClusterSpaceOptions {
  /** Weight of each embedding coordinate (0 leaves the embedding out of the space). */
  embeddingWeight?: number;
  /** Weight of log1p(event count). */
  lengthWeight?: number;
  /** Weight of the mean dwell column (length and dwell are a few numbers against ~20 shares). */
  dwellWeight?: number;
}

/** Chosen on generator data (docs/quality.md): the embedding adds nothing there at 0.3 or 0.5. */
export const clusterSpaceDefaults = { embeddingWeight: 0, lengthWeight: 1, dwellWeight: 2.5 } satisfies Required<ClusterSpaceOptions>;

/** Fits the standardisation and weights on the training sessions' raw features. */
export function fitClusterSpace(spec: ImageSpec, rows: readonly number[][], embeddingDim: number, options: ClusterSpaceOptions = {}): ClusterSpace {
  const o = { ...clusterSpaceDefaults, ...options };
  const featureNames = clusterFeatureNames(spec, embeddingDim, o.embeddingWeight);
  const d = featureNames.length;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) sq[j]! += (r[j]! - mean[j]!) ** 2 / rows.length;
  const factor = featureNames.map((name, j) => {
    const weight = name === 'logEvents' ? o.lengthWeight : name === `${OCCUPIED_PREFIX}dwell` ? o.dwellWeight : name.startsWith('emb') ? o.embeddingWeight : 1;
    const sd = Math.sqrt(sq[j]!);
    // A constant column carries nothing; 0 keeps it from turning float noise into distance.
    return sd > 1e-12 ? weight / sd : 0;
  });
  return { version: 1, featureNames, mean, factor };
}
