// Public API of the live stream stages: sessionizer, micro-batcher, watermarks, session store.
export * from './session-store.ts';
export * from './outcomes.ts';
export * from './watermark.ts';
export * from './sessionize.ts';
export * from './micro-batch.ts';
export * from './journey-sessions.ts';
