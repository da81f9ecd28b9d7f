// Public surface of model/. Clustering, assignment, readout and quality metrics:
export * from './hdbscan.ts';
export * from './kmeans.ts';
export * from './centroids.ts';
export * from './cluster-labels.ts';
export * from './session-summary.ts';
export * from './assign.ts';
export * from './readout.ts';
export * from './metrics-quality.ts';
export { type Vector, type DistanceSpace } from './vectors.ts';
export * from './churn-scorer.ts';
