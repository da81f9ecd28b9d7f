// Reading recorded click events (history) for training, evaluation and rendering.
export * from './events-jsonl.ts';
