// Reading recorded click events (history) and their data spec, for training, evaluation and rendering.
export * from './data-spec.ts';
export * from './history-source.ts';
export * from './vocabulary.ts';
