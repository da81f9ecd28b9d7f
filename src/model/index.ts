// Public surface of model/. Clustering, assignment, readout and quality metrics:
export * from './hdbscan.ts';
export * from './kmeans.ts';
export * from './choose-k.ts';
export * from './cluster-space.ts';
export * from './centroids.ts';
export * from './cluster-labels.ts';
export * from './session-summary.ts';
export * from './assign.ts';
export * from './readout.ts';
export * from './metrics-quality.ts';
export { type Vector, type DistanceSpace } from './vectors.ts';
export * from './churn-scorer.ts';
// The model part's public API, grouped by file (clustering, index and bundle files add their
// own lines here).
export * from './backend.ts';
export * from './wasm-grad-kernels.ts';
export * from '../util/prng.ts';
export * from './encoder-model.ts';
export * from './streaming-encoder.ts';
export * from './train.ts';
export * from './weights-io.ts';
export * from './encoder-protocol.ts';
export * from './encoder-client.ts';
export * from './synthetic.ts';
// Training pipeline, bundle loading and evaluation:
export * from './training-data.ts';
export * from './trainer.ts';
export * from './bundle.ts';
export * from './bundle-manifest.ts';
export * from './evaluate.ts';
export * from './readout-row.ts';
