// HDBSCAN (Campello, Moulavi & Sander 2013), following the reference Python package
// `hdbscan` step for step so its labels can be checked against ours
// (test/unit/training/hdbscan.test.ts): core distances → mutual reachability → minimum spanning
// tree (Prim, dense, distances computed on the fly: O(n²) time, O(n) memory) → single-linkage
// tree → condensed tree (minClusterSize) → stability → excess-of-mass selection → labels,
// noise = -1.
//
// We implement it ourselves: the npm package `hdbscan-ts` (1.0.17) was inspected and
// rejected: it uses squared Euclidean distances, computes stability from one edge weight
// per cluster instead of per-point λ, builds its hierarchy by re-running union-find per split
// (O(n³)), and has no tests against the reference.
//
// Training sets larger than `maxPoints` are clustered on a seeded subsample; every other
// point takes the label of its nearest subsample point when that neighbour is clustered and
// the mutual-reachability distance to it is within the distance at which that cluster was
// born (so points far outside a cluster's density level stay noise). See `extendLabels`.
import { ErrorCodes, UserError } from '../errors.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';
import { checkRows, type Vector } from '../model/vectors.ts';

export interface HdbscanOptions {
  /** Smallest group of points that counts as a cluster (the reference default is 5). */
  minClusterSize?: number;
  /** Neighbours (excluding the point itself) that define the core distance; default minClusterSize. */
  minSamples?: number;
  /** Above this many points, cluster a seeded subsample and extend the labels. Default 5,000. */
  maxPoints?: number;
  /** Seed for the subsample. */
  seed?: number;
}

export interface HdbscanResult {
  /** Cluster id per point, 0..clusterCount-1, or -1 for noise. */
  labels: Int32Array;
  /** Membership strength in [0,1] (0 for noise), as the reference's `probabilities_`. */
  probabilities: Float64Array;
  clusterCount: number;
  /** Excess-of-mass stability of each selected cluster, by cluster id. */
  stabilities: Float64Array;
  /** Indices of the points the hierarchy was built on (all points unless subsampled). */
  sampleIndices: Int32Array;
}

export const hdbscanDefaults = {
  minClusterSize: 5,
  maxPoints: 5000,
  seed: 42,
} satisfies HdbscanOptions;

// Exact duplicates give a zero distance and an infinite λ; the reference then carries
// infinite stabilities. A tiny floor keeps the arithmetic finite without changing the order.
const MIN_DISTANCE = 1e-12;

interface CondensedTree {
  parent: Int32Array;
  child: Int32Array;
  lambda: Float64Array;
  childSize: Int32Array;
  /** Id of the root cluster (= number of points). */
  root: number;
  /** One past the largest cluster id. */
  clusterEnd: number;
}

function intOption(value: number | undefined, fallback: number, name: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `hdbscan: ${name} must be an integer >= ${min}, got ${String(value)}`, {
      exitCode: 2,
    });
  }
  return v;
}

/** Clusters the rows; see the file comment for the method and its limits. */
export function hdbscan(points: readonly Vector[], options: HdbscanOptions = {}): HdbscanResult {
  const minClusterSize = intOption(options.minClusterSize, hdbscanDefaults.minClusterSize, 'minClusterSize', 2);
  const minSamplesOpt = intOption(options.minSamples, minClusterSize, 'minSamples', 1);
  const maxPoints = intOption(options.maxPoints, hdbscanDefaults.maxPoints, 'maxPoints', 2);
  checkRows(points, 'hdbscan points');
  const n = points.length;
  if (n <= maxPoints) {
    const all = new Int32Array(n).map((_, i) => i);
    return { ...clusterAll(points, minClusterSize, minSamplesOpt), sampleIndices: all };
  }
  const order = seededPermutation(n, seededRandom(options.seed ?? hdbscanDefaults.seed));
  const sampleIndices = order.slice(0, maxPoints).sort();
  const sample = Array.from(sampleIndices, (i) => points[i]!);
  const fit = clusterAll(sample, minClusterSize, minSamplesOpt);
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  sampleIndices.forEach((idx, k) => {
    labels[idx] = fit.labels[k]!;
    probabilities[idx] = fit.probabilities[k]!;
  });
  extendLabels(points, sampleIndices, sample, fit, labels, probabilities);
  return { labels, probabilities, clusterCount: fit.clusterCount, stabilities: fit.stabilities, sampleIndices };
}

interface Fit {
  labels: Int32Array;
  probabilities: Float64Array;
  clusterCount: number;
  stabilities: Float64Array;
  coreDistances: Float64Array;
  /** Per cluster id: the mutual-reachability distance at which it separated from its parent. */
  birthDistances: Float64Array;
}

function clusterAll(points: readonly Vector[], minClusterSize: number, minSamplesOpt: number): Fit {
  const n = points.length;
  if (n < 2) {
    return {
      labels: new Int32Array(n).fill(-1),
      probabilities: new Float64Array(n),
      clusterCount: 0,
      stabilities: new Float64Array(0),
      coreDistances: new Float64Array(n),
      birthDistances: new Float64Array(0),
    };
  }
  const minSamples = Math.max(1, Math.min(n - 1, minSamplesOpt));
  const flat = pack(points);
  const dim = points[0]!.length;
  const core = coreDistances(flat, n, dim, minSamples);
  const mst = primMst(flat, n, dim, core);
  const slt = singleLinkage(mst, n);
  const tree = condenseTree(slt, n, minClusterSize);
  const stability = computeStability(tree);
  const selected = selectEom(tree, stability);
  return labelPoints(tree, selected, stability, n, core);
}

// Rows packed into one Float64Array: the O(n²) loops below run several times faster on it
// than on an array of row objects.
function pack(points: readonly Vector[]): Float64Array {
  const dim = points[0]?.length ?? 0;
  const flat = new Float64Array(points.length * dim);
  points.forEach((p, i) => {
    for (let j = 0; j < dim; j++) flat[i * dim + j] = p[j]!;
  });
  return flat;
}

function rowDistance(a: Float64Array, i: number, b: Float64Array, j: number, dim: number): number {
  let s = 0;
  const oi = i * dim;
  const oj = j * dim;
  for (let k = 0; k < dim; k++) {
    const d = a[oi + k]! - b[oj + k]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Distance to the k-th nearest other point (the reference queries k+1 including itself). */
function coreDistances(flat: Float64Array, n: number, dim: number, k: number): Float64Array {
  const core = new Float64Array(n);
  const best = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = rowDistance(flat, i, flat, j, dim);
      if (d >= best[k - 1]!) continue;
      let pos = k - 1;
      while (pos > 0 && best[pos - 1]! > d) {
        best[pos] = best[pos - 1]!;
        pos--;
      }
      best[pos] = d;
    }
    core[i] = best[k - 1]!;
  }
  return core;
}

interface Edges {
  a: Int32Array;
  b: Int32Array;
  w: Float64Array;
}

/**
 * Prim on the complete mutual-reachability graph. Like the reference, each edge is recorded
 * as (previously added node, new node): with weights sorted this yields the same
 * single-linkage hierarchy as the true MST edges.
 */
function primMst(flat: Float64Array, n: number, dim: number, core: Float64Array): Edges {
  const inTree = new Uint8Array(n);
  const minDist = new Float64Array(n).fill(Infinity);
  const edges: Edges = { a: new Int32Array(n - 1), b: new Int32Array(n - 1), w: new Float64Array(n - 1) };
  let current = 0;
  for (let step = 0; step < n - 1; step++) {
    inTree[current] = 1;
    const cc = core[current]!;
    let next = -1;
    let nextDist = Infinity;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const d = Math.max(rowDistance(flat, current, flat, j, dim), cc, core[j]!);
      if (d < minDist[j]!) minDist[j] = d;
      if (minDist[j]! < nextDist) {
        nextDist = minDist[j]!;
        next = j;
      }
    }
    edges.a[step] = current;
    edges.b[step] = next;
    edges.w[step] = nextDist;
    current = next;
  }
  return edges;
}

interface Linkage {
  left: Int32Array;
  right: Int32Array;
  dist: Float64Array;
  size: Int32Array;
}

/** scipy-style linkage: row r merges two nodes into node n + r. */
function singleLinkage(mst: Edges, n: number): Linkage {
  const m = n - 1;
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => mst.w[x]! - mst.w[y]! || x - y);
  const parent = new Int32Array(2 * n - 1).map((_, i) => i);
  const size = new Int32Array(2 * n - 1).fill(1);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[x] !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  const out: Linkage = { left: new Int32Array(m), right: new Int32Array(m), dist: new Float64Array(m), size: new Int32Array(m) };
  order.forEach((e, row) => {
    const ra = find(mst.a[e]!);
    const rb = find(mst.b[e]!);
    const node = n + row;
    out.left[row] = ra;
    out.right[row] = rb;
    out.dist[row] = mst.w[e]!;
    out.size[row] = size[ra]! + size[rb]!;
    size[node] = out.size[row]!;
    parent[ra] = node;
    parent[rb] = node;
  });
  return out;
}

/** Breadth-first list of the nodes under `root`, in the reference's order. */
function bfsLinkage(slt: Linkage, n: number, root: number): number[] {
  const result: number[] = [];
  let level = [root];
  while (level.length > 0) {
    for (const x of level) result.push(x);
    const next: number[] = [];
    for (const x of level) {
      if (x >= n) next.push(slt.left[x - n]!, slt.right[x - n]!);
    }
    level = next;
  }
  return result;
}

function condenseTree(slt: Linkage, n: number, minClusterSize: number): CondensedTree {
  const root = 2 * (n - 1);
  const relabel = new Int32Array(2 * n - 1);
  const ignore = new Uint8Array(2 * n - 1);
  relabel[root] = n;
  let nextLabel = n + 1;
  const parent: number[] = [];
  const child: number[] = [];
  const lambda: number[] = [];
  const childSize: number[] = [];
  const push = (p: number, c: number, l: number, s: number) => {
    parent.push(p);
    child.push(c);
    lambda.push(l);
    childSize.push(s);
  };
  const fallOut = (node: number, from: number, l: number) => {
    for (const sub of bfsLinkage(slt, n, from)) {
      if (sub < n) push(relabel[node]!, sub, l, 1);
      ignore[sub] = 1;
    }
  };
  for (const node of bfsLinkage(slt, n, root)) {
    if (ignore[node] || node < n) continue;
    const row = node - n;
    const left = slt.left[row]!;
    const right = slt.right[row]!;
    const l = 1 / Math.max(slt.dist[row]!, MIN_DISTANCE);
    const leftCount = left >= n ? slt.size[left - n]! : 1;
    const rightCount = right >= n ? slt.size[right - n]! : 1;
    if (leftCount >= minClusterSize && rightCount >= minClusterSize) {
      relabel[left] = nextLabel++;
      push(relabel[node]!, relabel[left]!, l, leftCount);
      relabel[right] = nextLabel++;
      push(relabel[node]!, relabel[right]!, l, rightCount);
    } else if (leftCount < minClusterSize && rightCount < minClusterSize) {
      fallOut(node, left, l);
      fallOut(node, right, l);
    } else if (leftCount < minClusterSize) {
      relabel[right] = relabel[node]!;
      fallOut(node, left, l);
    } else {
      relabel[left] = relabel[node]!;
      fallOut(node, right, l);
    }
  }
  return {
    parent: Int32Array.from(parent),
    child: Int32Array.from(child),
    lambda: Float64Array.from(lambda),
    childSize: Int32Array.from(childSize),
    root: n,
    clusterEnd: nextLabel,
  };
}

/** Stability per cluster id: Σ over rows of (λ − λ_birth(parent)) · size. */
function computeStability(tree: CondensedTree): Float64Array {
  const births = new Float64Array(tree.clusterEnd);
  for (let r = 0; r < tree.child.length; r++) {
    const c = tree.child[r]!;
    if (c >= tree.root) births[c] = tree.lambda[r]!;
  }
  const stability = new Float64Array(tree.clusterEnd);
  for (let r = 0; r < tree.parent.length; r++) {
    const p = tree.parent[r]!;
    stability[p]! += (tree.lambda[r]! - births[p]!) * tree.childSize[r]!;
  }
  return stability;
}

/** Excess of mass; the root is never selected (the reference's allow_single_cluster=False). */
function selectEom(tree: CondensedTree, stability: Float64Array): Set<number> {
  const children = new Map<number, number[]>();
  for (let r = 0; r < tree.child.length; r++) {
    if (tree.childSize[r]! <= 1) continue;
    const p = tree.parent[r]!;
    const list = children.get(p) ?? [];
    list.push(tree.child[r]!);
    children.set(p, list);
  }
  const isCluster = new Map<number, boolean>();
  for (let c = tree.clusterEnd - 1; c > tree.root; c--) isCluster.set(c, true);
  for (let node = tree.clusterEnd - 1; node > tree.root; node--) {
    // The reference sums child stabilities in a C float; rounding the same way keeps
    // near-ties resolved identically.
    let subtree = 0;
    for (const ch of children.get(node) ?? []) subtree = Math.fround(subtree + stability[ch]!);
    if (subtree > stability[node]!) {
      isCluster.set(node, false);
      stability[node] = subtree;
    } else {
      const stack = [...(children.get(node) ?? [])];
      while (stack.length > 0) {
        const sub = stack.pop()!;
        isCluster.set(sub, false);
        stack.push(...(children.get(sub) ?? []));
      }
    }
  }
  return new Set([...isCluster].filter(([, v]) => v).map(([k]) => k));
}

function labelPoints(tree: CondensedTree, selected: Set<number>, stability: Float64Array, n: number, core: Float64Array): Fit {
  const sorted = [...selected].sort((a, b) => a - b);
  const labelOf = new Map(sorted.map((c, i) => [c, i]));
  const parentOf = new Int32Array(tree.clusterEnd).fill(-1);
  const lambdaOf = new Float64Array(tree.clusterEnd);
  const deaths = new Float64Array(tree.clusterEnd);
  for (let r = 0; r < tree.child.length; r++) {
    const c = tree.child[r]!;
    const p = tree.parent[r]!;
    parentOf[c] = p;
    lambdaOf[c] = tree.lambda[r]!;
    if (tree.lambda[r]! > deaths[p]!) deaths[p] = tree.lambda[r]!;
  }
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let node = parentOf[i]!;
    while (node > tree.root && !selected.has(node)) node = parentOf[node]!;
    if (node <= tree.root) continue;
    labels[i] = labelOf.get(node)!;
    const maxLambda = deaths[node]!;
    probabilities[i] = maxLambda === 0 ? 1 : Math.min(lambdaOf[i]!, maxLambda) / maxLambda;
  }
  const birthDistances = new Float64Array(sorted.length);
  const stabilities = new Float64Array(sorted.length);
  sorted.forEach((c, i) => {
    birthDistances[i] = 1 / lambdaOf[c]!;
    stabilities[i] = stability[c]!;
  });
  return { labels, probabilities, clusterCount: sorted.length, stabilities, coreDistances: core, birthDistances };
}

function extendLabels(
  points: readonly Vector[],
  sampleIndices: Int32Array,
  sample: Vector[],
  fit: Fit,
  labels: Int32Array,
  probabilities: Float64Array,
): void {
  const inSample = new Uint8Array(points.length);
  for (const i of sampleIndices) inSample[i] = 1;
  const dim = sample[0]!.length;
  const flatSample = pack(sample);
  const query = new Float64Array(dim);
  for (let i = 0; i < points.length; i++) {
    if (inSample[i]) continue;
    for (let j = 0; j < dim; j++) query[j] = points[i]![j]!;
    let best = -1;
    let bestDist = Infinity;
    for (let k = 0; k < sample.length; k++) {
      const d = rowDistance(query, 0, flatSample, k, dim);
      if (d < bestDist) {
        bestDist = d;
        best = k;
      }
    }
    const label = fit.labels[best]!;
    if (label < 0) continue;
    const reach = Math.max(bestDist, fit.coreDistances[best]!);
    if (reach <= fit.birthDistances[label]!) {
      labels[i] = label;
      probabilities[i] = fit.probabilities[best]!;
    }
  }
}
