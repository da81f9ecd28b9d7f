// Public API of the simulator and the real-data import.
export * from './archetypes.ts';
export * from './generator.ts';
export * from './session.ts';
export * from './stats.ts';
export * from './files.ts';
export * from './produce.ts';
export * from './kdd.ts';
export * from './order-case.ts';
