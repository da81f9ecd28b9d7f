// The one public entry: grouped `export *` lines.
export * from './errors.ts';
export * from './contracts.ts';
export * from './model/index.ts';
