// Random but structured journey images for benchmarks and tests (the real generator lives
// elsewhere): each session follows one of a few step patterns, one row per step, newest row
// last, zero rows above a short session — the layout of a rolling window of the last H steps.
import { seededRandom } from '../util/prng.ts';

export interface SyntheticImages {
  images: Float32Array;
  /** Which pattern each image was drawn from (a ground truth for cluster-quality checks). */
  patterns: Int32Array;
}

/**
 * n images of rows×cols. The first `types` columns are a one-hot step type; the last three are
 * continuous (dwell, gap, value) in [0,1]; columns in between hold a hashed "page" one-hot.
 */
export function syntheticImages(n: number, rows: number, cols: number, seed = 1, patternCount = 6): SyntheticImages {
  const rng = seededRandom(seed);
  const types = Math.max(2, Math.min(11, cols - 3));
  const pages = Math.max(0, cols - 3 - types);
  const patterns = Array.from({ length: patternCount }, () =>
    Array.from({ length: 4 + Math.floor(rng() * 5) }, () => Math.floor(rng() * types)),
  );
  const images = new Float32Array(n * rows * cols);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(rng() * patternCount);
    labels[i] = p;
    const pattern = patterns[p]!;
    const len = 1 + Math.floor(rng() * rows * 1.5);
    const visible = Math.min(len, rows);
    const base = i * rows * cols;
    for (let s = 0; s < visible; s++) {
      const step = len - visible + s;
      const row = rows - visible + s;
      const off = base + row * cols;
      // Mostly the pattern's step, sometimes a random one: noise the encoder has to absorb.
      const type = rng() < 0.85 ? pattern[step % pattern.length]! : Math.floor(rng() * types);
      images[off + type] = 1;
      if (pages > 0) images[off + types + ((type * 7 + p) % pages)] = 1;
      images[off + cols - 3] = Math.min(1, (0.2 + 0.1 * p + 0.2 * rng()) * (type % 3 === 0 ? 1.5 : 1));
      images[off + cols - 2] = s === 0 ? 0 : Math.min(1, 0.1 + 0.5 * rng());
      images[off + cols - 1] = type === types - 1 ? 0.3 + 0.6 * rng() : 0;
    }
  }
  return { images, patterns: labels };
}
