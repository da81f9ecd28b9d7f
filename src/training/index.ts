// The training entry (package subpath "journeylens/training"): history → training sessions →
// autoencoder → clusters → centroids and churn readout → a model bundle; evaluation and quality
// metrics. Serving (src/model/, `journeylens run`) never imports it.
export * from './options.ts';
export * from './trainer.ts';
export * from './training-data.ts';
export * from './train.ts';
export * from './gradients.ts';
export * from './wasm-grad-kernels.ts';
export * from './synthetic.ts';
export * from './cluster-space-fit.ts';
export * from './hdbscan.ts';
export * from './kmeans.ts';
export * from './choose-k.ts';
export * from './centroids.ts';
export * from './cluster-labels.ts';
export * from './session-summary.ts';
export * from './readout-fit.ts';
export * from './bundle-writer.ts';
export * from './evaluate.ts';
export * from './metrics-quality.ts';
export * from './data-warnings.ts';
