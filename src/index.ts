// The one public entry: grouped `export *` lines.
export * from './errors.ts';
export * from './contracts.ts';
export * from './metrics.ts';
export * from './http.ts';
export * from './log.ts';
export * from './consumer-lag.ts';
