// Checkpoint and delivery: when input offsets are committed, and how a tick's outputs get out.
export * from './checkpoint.ts';
export * from './closed-spans.ts';
export * from './commit-planner.ts';
export * from './delivery.ts';
export * from './flow-control.ts';
