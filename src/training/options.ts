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
  /** Add the summary features (per-type counts, activity by window before now, …; readout-row.ts summaryFeatureNames). */
  summaryFeatures?: boolean;
  /**
   * Penalise the embedding group (embedding, its rates, image column means) apart from the
   * summary group, the embedding's multiplier chosen by the same cross-validation (readout-fit.ts
   * choosePenalty); false: one L2 for all features.
   */
  readoutGroupPenalty?: boolean;
  /** The readout's training rows as they are fitted, with the view of each row (tools that compare readout recipes by cross-validation). */
  onReadoutRows?: (rows: ReadoutRows) => void;
  /** Labelled sessions in the neighbour index at most (a seeded sample beyond; keeps the bundle small). */
  maxNeighbours?: number;
  onTrainProgress?: (p: TrainProgress) => void;
  /** One-line stage messages (the CLI prints them on stderr). */
  onStage?: (message: string) => void;
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
  summaryFeatures: false,
  readoutGroupPenalty: false,
  readoutOn: 'final+prefixes',
  readoutL2: 'cv',
} satisfies TrainerOptions;
