// Drawing journey images: PNG encoding with column labels in a small bitmap font.
export * from './image-png.ts';
