// Public API of the sessionizer and journey images.
export * from './session-store.ts';
export * from './outcomes.ts';
export * from './watermark.ts';
export * from './sessionize.ts';
export * from './micro-batch.ts';
export * from './pipeline.ts';
export * from './image-png.ts';
export * from './events-jsonl.ts';
