// The model bundle's file format: the files of a bundle directory, the manifest, and the shape
// of clusters.json. `journeylens train` writes it, the model runtime reads it, `render` draws
// a cluster prototype from it; this is the one declaration all three use.
import type { ImageSpec, SessionizationSpec } from '../journey/image-spec.ts';

export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

/** Files of a bundle besides the manifest and the encoder's two files (model/weights-io.ts). */
export const BUNDLE_FILES = {
  clusters: 'clusters.json',
  clusterSpace: 'cluster-space.json',
  prototypes: 'prototypes.bin',
  readout: 'readout.json',
  /** Prefix of the centroid index: `.hnsw` (HNSW graph) and `.json` (centroids). */
  centroids: 'centroids',
  /** Prefix of the labelled-neighbour index (optional). */
  neighbours: 'neighbours',
} as const;

export interface BundleManifest {
  formatVersion: number;
  modelVersion: string;
  createdAt: string;
  imageSpec: ImageSpec;
  sessionization: SessionizationSpec;
  /** Free-form summaries written by the trainer (sessions, events, label rate, seed, …). */
  training: Record<string, unknown>;
  /** Quality figures (loss, AUC, ARI, …). */
  metrics: Record<string, unknown>;
  /** Relative path → sha256 hex, for every file of the bundle except the manifest. */
  files: Record<string, string>;
}

/** A cluster as training describes it. */
export interface ClusterDescription {
  id: number;
  label: string;
  size: number;
  churnRate: number;
  /** Largest radius among the cluster's centroids. */
  radius: number;
  centroids: number;
}

/** One row of clusters.json: the description plus where its prototype image sits in prototypes.bin. */
export interface BundleCluster extends ClusterDescription {
  /** Offset (in images) of the mean member image in prototypes.bin (float32, [H, W] each). */
  prototype: number;
  /** Members that churned / were labelled. */
  labelled: number;
  churned: number;
}

/** clusters.json. */
export interface ClustersFile {
  version: number;
  /** Prototype image size: rows × cols float32 values each. */
  rows: number;
  cols: number;
  prototypesFile: string;
  clusters: BundleCluster[];
}
