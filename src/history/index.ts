// Reading recorded click events (history) and their data spec, for training, evaluation and rendering.
export * from './events-jsonl.ts';
export * from './data-spec.ts';
