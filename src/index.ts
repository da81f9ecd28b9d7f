// The one public entry: grouped `export *` lines.
export * from './errors.ts';
export * from './contracts.ts';
export * from './streams/index.ts';
export * from './model/image-spec.ts';
