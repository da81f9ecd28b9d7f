// k for k-means when the user gives none: the candidate with the highest mean silhouette on a
// seeded sample (O(sample²) distances per candidate, so the sample stays small). On the
// generator's data the silhouette peaks at 7–8 for 6 archetypes and those k score ARI 0.80–0.89
// (docs/quality.md): a little over-splitting costs less than merging two archetypes.
import { kmeans } from './kmeans.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';
import { squaredL2, type Vector } from '../model/vectors.ts';

export interface ChooseKOptions {
  candidates?: readonly number[];
  /** Points the silhouette is computed on (a seeded sample). */
  sample?: number;
  seed?: number;
  restarts?: number;
}

export const chooseKDefaults = { candidates: [4, 5, 6, 7, 8, 9, 10], sample: 1500, seed: 42, restarts: 10 } as const;

/** Mean silhouette of `labels` over the points listed in `sample`. */
export function silhouette(points: readonly Vector[], labels: ArrayLike<number>, sample: readonly number[]): number {
  const k = Math.max(...sample.map((i) => labels[i]!)) + 1;
  let total = 0;
  for (const i of sample) {
    const sum = new Float64Array(k);
    const count = new Float64Array(k);
    for (const j of sample) {
      if (i === j) continue;
      sum[labels[j]!]! += Math.sqrt(squaredL2(points[i]!, points[j]!));
      count[labels[j]!]!++;
    }
    const own = labels[i]!;
    if (count[own] === 0) continue; // a singleton's silhouette is 0 by convention
    const a = sum[own]! / count[own]!;
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && count[c]! > 0) b = Math.min(b, sum[c]! / count[c]!);
    if (Number.isFinite(b)) total += (b - a) / Math.max(a, b, 1e-12);
  }
  return total / Math.max(1, sample.length);
}

export function chooseK(points: readonly Vector[], options: ChooseKOptions = {}): { k: number; labels: Int32Array; scores: { k: number; silhouette: number }[] } {
  const o = { ...chooseKDefaults, ...options };
  const perm = seededPermutation(points.length, seededRandom(o.seed));
  const sample = Array.from(perm.subarray(0, Math.min(o.sample, points.length)));
  let best: { k: number; labels: Int32Array; s: number } | undefined;
  const scores: { k: number; silhouette: number }[] = [];
  for (const k of o.candidates) {
    if (k < 2 || k >= points.length) continue;
    const { labels } = kmeans(points, { k, seed: o.seed, restarts: o.restarts });
    const s = silhouette(points, labels, sample);
    scores.push({ k, silhouette: s });
    if (!best || s > best.s) best = { k, labels, s };
  }
  if (!best) {
    const k = Math.min(points.length, 1);
    return { k, labels: kmeans(points, { k, seed: o.seed }).labels, scores };
  }
  return { k: best.k, labels: best.labels, scores };
}
