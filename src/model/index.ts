// What `journeylens run` needs to turn a session view into a score: the bundle (loading,
// verification, hot reload), the encoder (definition, weights, worker client), the cluster space,
// nearest-centroid and neighbour indexes, the churn readout and the TF.js backend choice.
// Training is a separate entry: src/training/index.ts.
export * from './runtime.ts';
export * from './bundle.ts';
export * from './bundle-manifest.ts';
export * from './backend.ts';
export * from './encoder-model.ts';
export * from './weights-io.ts';
export * from './encoder-protocol.ts';
export * from './encoder-client.ts';
export * from './streaming-encoder.ts';
export * from './cluster-space.ts';
export * from './centroid-model.ts';
export * from './assign.ts';
export * from './churn-scorer.ts';
export * from './readout.ts';
export * from './readout-row.ts';
export { type Vector, type DistanceSpace } from './vectors.ts';
