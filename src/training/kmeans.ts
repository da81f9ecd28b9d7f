// k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), seeded so a training run is
// reproducible. The alternative to HDBSCAN for training, and the tool that splits a large or
// non-convex HDBSCAN cluster into several centroids (centroids.ts).
import { ErrorCodes, UserError } from '../errors.ts';
import { seededRandom } from '../util/prng.ts';
import { checkRows, squaredL2, type Vector } from '../model/vectors.ts';

export interface KMeansOptions {
  k: number;
  seed?: number;
  /** Lloyd iterations at most. */
  maxIterations?: number;
  /** Stop when no centre moves more than this (Euclidean). */
  tolerance?: number;
  /** Independent k-means++ starts; the lowest inertia wins. */
  restarts?: number;
}

export interface KMeansResult {
  labels: Int32Array;
  centroids: Float64Array[];
  /** Sum of squared distances to the assigned centre. */
  inertia: number;
  iterations: number;
}

export const kmeansDefaults = { seed: 42, maxIterations: 100, tolerance: 1e-6, restarts: 3 } as const;

export function kmeans(points: readonly Vector[], options: KMeansOptions): KMeansResult {
  checkRows(points, 'kmeans points');
  const n = points.length;
  const { k } = options;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `kmeans: k must be an integer between 1 and the number of points (${n}), got ${k}`, {
      exitCode: 2,
    });
  }
  const random = seededRandom(options.seed ?? kmeansDefaults.seed);
  const restarts = Math.max(1, options.restarts ?? kmeansDefaults.restarts);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const run = lloyd(points, seedPlusPlus(points, k, random), options);
    if (!best || run.inertia < best.inertia) best = run;
  }
  return best!;
}

function seedPlusPlus(points: readonly Vector[], k: number, random: () => number): Float64Array[] {
  const n = points.length;
  const centres: Float64Array[] = [Float64Array.from(points[Math.floor(random() * n)]!)];
  const d2 = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    const last = centres[centres.length - 1]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = squaredL2(points[i]!, last);
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
    let pick = n - 1;
    if (total > 0) {
      let target = random() * total;
      for (let i = 0; i < n; i++) {
        target -= d2[i]!;
        if (target < 0) {
          pick = i;
          break;
        }
      }
    } else {
      // Fewer distinct points than k: any point will do; the duplicate centre stays empty.
      pick = Math.floor(random() * n);
    }
    centres.push(Float64Array.from(points[pick]!));
  }
  return centres;
}

function nearest(p: Vector, centres: Float64Array[]): { index: number; d2: number } {
  let index = 0;
  let d2 = Infinity;
  for (let c = 0; c < centres.length; c++) {
    const d = squaredL2(p, centres[c]!);
    if (d < d2) {
      d2 = d;
      index = c;
    }
  }
  return { index, d2 };
}

function lloyd(points: readonly Vector[], centres: Float64Array[], options: KMeansOptions): KMeansResult {
  const n = points.length;
  const dim = centres[0]!.length;
  const maxIterations = options.maxIterations ?? kmeansDefaults.maxIterations;
  const tol2 = (options.tolerance ?? kmeansDefaults.tolerance) ** 2;
  const labels = new Int32Array(n);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    for (let i = 0; i < n; i++) labels[i] = nearest(points[i]!, centres).index;
    const sums = centres.map(() => new Float64Array(dim));
    const counts = new Int32Array(centres.length);
    for (let i = 0; i < n; i++) {
      const s = sums[labels[i]!]!;
      const p = points[i]!;
      for (let j = 0; j < dim; j++) s[j]! += p[j]!;
      counts[labels[i]!]!++;
    }
    let moved = 0;
    centres.forEach((c, ci) => {
      // An empty cluster keeps its centre rather than collapsing to the origin.
      if (counts[ci] === 0) return;
      const next = sums[ci]!.map((v) => v / counts[ci]!);
      moved = Math.max(moved, squaredL2(c, next));
      c.set(next);
    });
    if (moved <= tol2) {
      iterations++;
      break;
    }
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const { index, d2 } = nearest(points[i]!, centres);
    labels[i] = index;
    inertia += d2;
  }
  return { labels, centroids: centres, inertia, iterations };
}
