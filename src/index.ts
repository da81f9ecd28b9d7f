// The one public entry: grouped `export *` lines.
export * from './errors.ts';
export * from './contracts/index.ts';
export * from './consumers/index.ts';
export * from './sinks/dead-letter.ts';
export * from './streams/index.ts';
export * from './sim/index.ts';
export * from './metrics.ts';
export * from './http.ts';
export * from './log.ts';
export * from './processor/consumer-lag.ts';
export * from './sinks/index.ts';
export * from './journey/index.ts';
export * from './render/index.ts';
export * from './history/index.ts';
export * from './model/index.ts';
