// The journey image: its versioned spec, the packed rows a session keeps and the rasterizer
// that turns them into an image, and the detached session view that streams hand to scoring.
// Shared by streams, model and training (one definition, no training/serving skew).
export * from './image-spec.ts';
export * from './page-category.ts';
export * from './rasterize.ts';
export * from './session-view.ts';
