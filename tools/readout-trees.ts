// Gradient-boosted trees for the readout-recipe experiment of tools/readout-cv.ts (issue 19:
// "interactions: gradient-boosted trees over embedding + summary features"). Not served: by
// nested grouped cross-validation on the KDD training sets the trees and their blends with the
// logistic readout scored below it (docs/model.md), so the product keeps logistic regression.
// Logistic loss, second-order boosting (leaf value −G/(H+λ)), splits on per-feature quantile bins,
// rows and features subsampled per tree (seeded); the tree count by grouped CV (lowest mean
// held-out log loss), Platt calibration on those held-out margins, then a refit on all rows.
import { sigmoid } from '../src/model/readout.ts';
import { seededPermutation, seededRandom } from '../src/util/prng.ts';

export interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

export interface Boosted {
  base: number;
  eta: number;
  trees: Tree[];
}

export interface BoostOptions {
  depth: number;
  eta: number;
  lambda: number;
  minHessian: number;
  subsample: number;
  colsample: number;
  maxTrees: number;
  bins: number;
  seed: number;
}

export const boostDefaults: BoostOptions = { depth: 3, eta: 0.05, lambda: 1, minHessian: 1, subsample: 0.8, colsample: 0.8, maxTrees: 400, bins: 32, seed: 42 };

/** Split points "x <= edge" of one feature: its quantiles, distinct, below its maximum. */
function edgesOf(x: readonly number[][], j: number, bins: number): number[] {
  const v = x.map((r) => r[j]!).sort((a, b) => a - b);
  const e: number[] = [];
  for (let b = 1; b < bins; b++) {
    const q = v[Math.floor((b / bins) * (v.length - 1))]!;
    if (e.length === 0 || q > e[e.length - 1]!) e.push(q);
  }
  return e.filter((q) => q < v[v.length - 1]!);
}

export function treeValue(tree: Tree, row: ArrayLike<number>): number {
  let n = 0;
  while (tree.feature[n]! >= 0) n = row[tree.feature[n]!]! <= tree.threshold[n]! ? tree.left[n]! : tree.right[n]!;
  return tree.value[n]!;
}

export function boostedMargin(m: Boosted, row: ArrayLike<number>): number {
  let z = m.base;
  for (const t of m.trees) z += m.eta * treeValue(t, row);
  return z;
}

/** Fits `o.maxTrees` trees; `onTree(k, model)` runs after each (held-out scoring per tree count). */
export function fitBoosted(x: readonly number[][], y: readonly number[], o: BoostOptions, onTree?: (k: number, m: Boosted) => void): Boosted {
  const n = x.length;
  const p = x[0]!.length;
  const edges = Array.from({ length: p }, (_, j) => edgesOf(x, j, o.bins));
  const bin = x.map((r) =>
    Int16Array.from(r, (v, j) => {
      const e = edges[j]!;
      let lo = 0;
      let hi = e.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= e[mid]!) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    }),
  );
  const rate = y.reduce((a, b) => a + b, 0) / n;
  const m: Boosted = { base: Math.log(rate / (1 - rate)), eta: o.eta, trees: [] };
  const f = new Float64Array(n).fill(m.base);
  const random = seededRandom(o.seed);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  for (let k = 0; k < o.maxTrees; k++) {
    for (let i = 0; i < n; i++) {
      const q = sigmoid(f[i]!);
      g[i] = q - y[i]!;
      h[i] = Math.max(q * (1 - q), 1e-12);
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (random() < o.subsample) rows.push(i);
    const cols: number[] = [];
    for (let j = 0; j < p; j++) if (edges[j]!.length > 0 && random() < o.colsample) cols.push(j);
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const grow = (idx: readonly number[], depth: number): number => {
      const id = feature.length;
      feature.push(-1);
      threshold.push(0);
      left.push(-1);
      right.push(-1);
      value.push(0);
      let gs = 0;
      let hs = 0;
      for (const i of idx) {
        gs += g[i]!;
        hs += h[i]!;
      }
      value[id] = -gs / (hs + o.lambda);
      if (depth >= o.depth || hs < 2 * o.minHessian) return id;
      const parent = (gs * gs) / (hs + o.lambda);
      let best = 1e-9;
      let bestJ = -1;
      let bestB = -1;
      for (const j of cols) {
        const nb = edges[j]!.length + 1;
        const hg = new Float64Array(nb);
        const hh = new Float64Array(nb);
        for (const i of idx) {
          const b = bin[i]![j]!;
          hg[b]! += g[i]!;
          hh[b]! += h[i]!;
        }
        let gl = 0;
        let hl = 0;
        for (let b = 0; b < nb - 1; b++) {
          gl += hg[b]!;
          hl += hh[b]!;
          const gr = gs - gl;
          const hr = hs - hl;
          if (hl < o.minHessian || hr < o.minHessian) continue;
          const gain = (gl * gl) / (hl + o.lambda) + (gr * gr) / (hr + o.lambda) - parent;
          if (gain > best) {
            best = gain;
            bestJ = j;
            bestB = b;
          }
        }
      }
      if (bestJ < 0) return id;
      const li: number[] = [];
      const ri: number[] = [];
      for (const i of idx) (bin[i]![bestJ]! <= bestB ? li : ri).push(i);
      feature[id] = bestJ;
      threshold[id] = edges[bestJ]![bestB]!;
      left[id] = grow(li, depth + 1);
      right[id] = grow(ri, depth + 1);
      return id;
    };
    grow(rows, 0);
    const tree: Tree = { feature: Int32Array.from(feature), threshold: Float64Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float64Array.from(value) };
    m.trees.push(tree);
    for (let i = 0; i < n; i++) f[i]! += o.eta * treeValue(tree, x[i]!);
    onTree?.(k, m);
  }
  return m;
}

/** Tree count by grouped k-fold CV, Platt on the held-out margins, refit on all rows: a risk function. */
export function fitBoostedCv(x: readonly number[][], y: readonly number[], groups: readonly number[], o: BoostOptions = boostDefaults, folds = 3): { predict: (row: ArrayLike<number>) => number; trees: number } {
  const ids = [...new Set(groups)].sort((a, b) => a - b);
  const foldOf = new Map<number, number>();
  seededPermutation(ids.length, seededRandom(o.seed)).forEach((g, k) => foldOf.set(ids[g]!, k % folds));
  const loss = new Float64Array(o.maxTrees);
  const margins = Array.from({ length: o.maxTrees }, () => new Float64Array(x.length));
  for (let f = 0; f < folds; f++) {
    const train = x.map((_, i) => i).filter((i) => foldOf.get(groups[i]!) !== f);
    const held = x.map((_, i) => i).filter((i) => foldOf.get(groups[i]!) === f);
    const z = new Float64Array(held.length);
    fitBoosted(
      train.map((i) => x[i]!),
      train.map((i) => y[i]!),
      o,
      (k, m) => {
        if (k === 0) z.fill(m.base);
        const tree = m.trees[k]!;
        held.forEach((i, a) => {
          z[a]! += m.eta * treeValue(tree, x[i]!);
          const q = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(z[a]!)));
          loss[k]! += y[i] === 1 ? -Math.log(q) : -Math.log(1 - q);
          margins[k]![i] = z[a]!;
        });
      },
    );
  }
  let bestK = 0;
  for (let k = 1; k < o.maxTrees; k++) if (loss[k]! < loss[bestK]!) bestK = k;
  // Platt (a, b) on the held-out margins by Newton's method
  const z = margins[bestK]!;
  let a = 1;
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < x.length; i++) {
      const q = sigmoid(a * z[i]! + b);
      const e = q - y[i]!;
      const w = q * (1 - q);
      ga += e * z[i]!;
      gb += e;
      haa += w * z[i]! * z[i]!;
      hab += w * z[i]!;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  const model = fitBoosted(x, y, { ...o, maxTrees: bestK + 1 });
  return { predict: (row) => sigmoid(a * boostedMargin(model, row) + b), trees: bestK + 1 };
}
