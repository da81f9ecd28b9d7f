// The options of `trainBundle` (trainer.ts) and their defaults, apart from the trainer so the
// CLI can show the defaults without loading the training code.
import type { EncoderKind } from '../model/encoder-model.ts';
import type { ClusterSpaceOptions } from './cluster-space-fit.ts';
import type { TrainProgress } from './train.ts';
import type { SessionView } from '../journey/session-view.ts';

export interface TrainerOptions {
  seed?: number;
  dim?: number;
  encoder?: EncoderKind;
  epochs?: number;
  clusterer?: 'hdbscan' | 'kmeans';
  /** k for k-means; default: chosen by silhouette (choose-k.ts). */
  k?: number;
  /** Weights of the cluster space (cluster-space.ts). */
  clusterSpace?: ClusterSpaceOptions;
  /** HDBSCAN's smallest cluster, default max(10, 1 % of the sessions it clusters: at most its 5,000-point sample). */
  minClusterSize?: number;
  /** Neighbours for the readout's kNN churn-rate feature. */
  knnK?: number;
  /** Fit the readout on final states only, or on final and prefix states (live sessions are scored mid-way). */
  readoutOn?: 'final' | 'final+prefixes';
  /** L2 penalty of the readout (on standardised weights), or 'cv': chosen by grouped cross-validation on the training sessions (chooseL2). */
  readoutL2?: number | 'cv';
  /** Add the image's column means to the readout (see readout-row.ts). */
  imageFeatures?: boolean;
  /** Add how long the session had been quiet when scored (`quietMinutes`, readout-row.ts). */
  quietFeature?: boolean;
  /**
   * The readout's recipe (issue 19). 'embedding': the embedding, cluster and kNN rates, quiet/age
   * and the image column means, one L2 (the readout before issue 19). 'summary': those plus the
   * summary and window features (readout-row.ts summaryFeatureNames), the embedding group's
   * penalty chosen apart from the summary group's by the same cross-validation (readout-fit.ts
   * choosePenalty). 'auto': 'summary' for bucketed images, 'embedding' for step images, as chosen
   * by nested cross-validation on training data (tools/readout-cv.ts): on the KDD courses (one row
   * per day) the summary recipe fitted better, on the generator's step images it did not.
   */
  readout?: ReadoutRecipe | 'auto';
  /**
   * Weight of the encoder's second objective, a churn head on the embedding trained with the
   * reconstruction on every labelled final and prefix image (train.ts `churn`); 0: the plain
   * autoencoder. Compared by nested grouped cross-validation on training data (tools/encoder-cv.ts).
   */
  churnWeight?: number;
  /** The readout's training rows as they are fitted, with the view of each row (tools that compare readout recipes by cross-validation). */
  onReadoutRows?: (rows: ReadoutRows) => void;
  /** Labelled sessions in the neighbour index at most (a seeded sample beyond; keeps the bundle small). */
  maxNeighbours?: number;
  onTrainProgress?: (p: TrainProgress) => void;
  /** One-line stage messages (the CLI prints them on stderr). */
  onStage?: (message: string) => void;
}

export const READOUT_RECIPES = ['embedding', 'summary'] as const;
export type ReadoutRecipe = (typeof READOUT_RECIPES)[number];

/** The recipe 'auto' means for an image spec. */
export function resolveReadoutRecipe(recipe: ReadoutRecipe | 'auto', rowMode: 'steps' | 'buckets'): ReadoutRecipe {
  if (recipe !== 'auto') return recipe;
  return rowMode === 'buckets' ? 'summary' : 'embedding';
}

export interface ReadoutRows {
  featureNames: string[];
  xs: Float64Array[];
  ys: number[];
  /** The training session of each row (its final and prefix states share it). */
  groups: number[];
  isFinal: boolean[];
  views: SessionView[];
}

export const trainerDefaults = {
  seed: 42,
  dim: 16,
  encoder: 'temporal',
  epochs: 10,
  clusterer: 'kmeans',
  knnK: 25,
  maxNeighbours: 10_000,
  imageFeatures: true,
  quietFeature: true,
  readout: 'auto',
  readoutOn: 'final+prefixes',
  readoutL2: 'cv',
  churnWeight: 0,
} satisfies TrainerOptions;
