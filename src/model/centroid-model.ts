// What training hands the centroid index: centroids with their radius and smoothed churn rate,
// per-cluster statistics and the global churn rate (training/centroids.ts fits it).
import { type DistanceSpace } from './vectors.ts';

export interface Centroid {
  /** Position in the centroid list; also its label in the HNSW index. */
  centroidId: number;
  clusterId: number;
  vector: number[];
  /** `radiusQuantile` of member distances to this centroid. */
  radius: number;
  /** Members assigned to this centroid. */
  size: number;
  /** Members with a known churn label, and how many of them churned. */
  labelled: number;
  churned: number;
  /** Smoothed churn rate: (churned + m·global) / (labelled + m). */
  churnRate: number;
}

export interface ClusterStats {
  clusterId: number;
  size: number;
  centroidIds: number[];
  labelled: number;
  churned: number;
  churnRate: number;
}

export interface CentroidModel {
  space: DistanceSpace;
  globalChurnRate: number;
  centroids: Centroid[];
  clusters: ClusterStats[];
}
