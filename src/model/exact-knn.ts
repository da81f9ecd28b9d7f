// Exact k nearest neighbours (squared Euclidean) over a few thousand low-dimensional points: a
// k-d tree over the points rotated onto their principal axes. The neighbours lookup of every
// scored view runs here (NeighbourIndex.churnRate), so it is written for that: points in one
// Float64Array in tree order, leaves scanned with early abandoning (the leading axes carry most
// of the variance, so a far point is dropped after a few of its coordinates), the cell distance
// kept incrementally (Arya & Mount) so a subtree is skipped as soon as it cannot hold a nearer
// point. On the default bundle's 10,000 × 16-d neighbours it visits about 700 points a query
// (bench/scoring-core.ts measures it against hnswlib).
//
// The answer is defined without reference to the tree: search() gives the k points smallest by
// (distance, index); meanOf() averages a value over the k nearest with the points tied at the
// k-th distance sharing the last places equally, so the answer never depends on the order the
// points were stored in (journeys often repeat exactly: identical images, identical embeddings).
// Rotation is orthonormal, so distances are the same as in the original coordinates up to float
// rounding; identical points stay identical.

const LEAF_SIZE = 16;
const JACOBI_SWEEPS = 60;

/** Eigenvectors of a symmetric matrix (row-major, n×n) by cyclic Jacobi; columns of the result, by descending eigenvalue. */
function principalAxes(cov: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(cov);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < JACOBI_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]! || x - y);
  const axes = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) axes[k * n + j] = v[j * n + order[k]!]!;
  return axes;
}

export class ExactKnn {
  readonly size: number;
  readonly dim: number;
  private readonly mean: Float64Array;
  /** Row k: the k-th principal axis. */
  private readonly axes: Float64Array;
  /** Rotated points in tree order, and each one's original index. */
  private readonly points: Float64Array;
  private readonly ids: Int32Array;
  /** Per node: split axis (−1 for a leaf), split value, children, leaf range. */
  private readonly splitAxis: Int32Array;
  private readonly splitValue: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  // scratch of one query (a thread runs one query at a time)
  private readonly q: Float64Array;
  private readonly offset: Float64Array;
  private heapD = new Float64Array(0);
  private heapI = new Int32Array(0);
  private count = 0;
  private k = 0;
  private exclude = -1;
  private found = new Int32Array(0);
  /** The nearest distance among points examined but not kept (rejected on a tie, or evicted). */
  private nearestLeftOut = Infinity;
  private tiedCount = 0;
  private tiedSum = 0;
  private tiedValues: ArrayLike<number> | undefined;

  /** `rows`: `size` points of `dim` values, row-major. */
  constructor(rows: ArrayLike<number>, size: number, dim: number) {
    this.size = size;
    this.dim = dim;
    const mean = new Float64Array(dim);
    for (let i = 0; i < size; i++) for (let j = 0; j < dim; j++) mean[j]! += rows[i * dim + j]!;
    for (let j = 0; j < dim; j++) mean[j]! /= Math.max(1, size);
    const cov = new Float64Array(dim * dim);
    const centred = new Float64Array(dim);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < dim; j++) centred[j] = rows[i * dim + j]! - mean[j]!;
      for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) cov[a * dim + b]! += centred[a]! * centred[b]!;
    }
    for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) cov[a * dim + b] = cov[b * dim + a]!;
    this.mean = mean;
    this.axes = principalAxes(cov, dim);
    const rotated = new Float64Array(size * dim);
    for (let i = 0; i < size; i++) this.rotate(rows, i * dim, rotated, i * dim);

    const perm = Int32Array.from({ length: size }, (_, i) => i);
    const nodes: { axis: number; value: number; left: number; right: number; from: number; to: number }[] = [];
    const build = (from: number, to: number): number => {
      const id = nodes.length;
      const node = { axis: -1, value: 0, left: -1, right: -1, from, to };
      nodes.push(node);
      if (to - from <= LEAF_SIZE) return id;
      let axis = 0;
      let spread = -1;
      for (let d = 0; d < dim; d++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = from; i < to; i++) {
          const x = rotated[perm[i]! * dim + d]!;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        if (hi - lo > spread) {
          spread = hi - lo;
          axis = d;
        }
      }
      if (!(spread > 0)) return id; // all points equal: one leaf
      const sorted = Array.from(perm.subarray(from, to)).sort((x, y) => rotated[x * dim + axis]! - rotated[y * dim + axis]! || x - y);
      perm.set(sorted, from);
      const mid = (from + to) >> 1;
      node.axis = axis;
      node.value = rotated[perm[mid]! * dim + axis]!;
      node.left = build(from, mid);
      node.right = build(mid, to);
      return id;
    };
    if (size > 0) build(0, size);
    this.points = new Float64Array(size * dim);
    this.ids = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      this.points.set(rotated.subarray(perm[i]! * dim, (perm[i]! + 1) * dim), i * dim);
      this.ids[i] = perm[i]!;
    }
    this.splitAxis = Int32Array.from(nodes, (n) => n.axis);
    this.splitValue = Float64Array.from(nodes, (n) => n.value);
    this.left = Int32Array.from(nodes, (n) => n.left);
    this.right = Int32Array.from(nodes, (n) => n.right);
    this.from = Int32Array.from(nodes, (n) => n.from);
    this.to = Int32Array.from(nodes, (n) => n.to);
    this.q = new Float64Array(dim);
    this.offset = new Float64Array(dim);
  }

  private rotate(src: ArrayLike<number>, at: number, dst: Float64Array, to: number): void {
    const dim = this.dim;
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (src[at + j]! - this.mean[j]!) * this.axes[k * dim + j]!;
      dst[to + k] = s;
    }
  }

  /**
   * The original indices of the k nearest points (fewer when there are fewer), written into
   * `out` in no particular order; returns how many. `exclude`: an index left out (−1: none).
   */
  search(query: ArrayLike<number>, k: number, out: Int32Array, exclude = -1): number {
    if (this.size === 0 || k <= 0) return 0;
    if (this.heapD.length < k) {
      this.heapD = new Float64Array(k);
      this.heapI = new Int32Array(k);
    }
    this.k = k;
    this.count = 0;
    this.exclude = exclude;
    this.nearestLeftOut = Infinity;
    this.rotate(query, 0, this.q, 0);
    this.offset.fill(0);
    this.visit(0, 0);
    for (let i = 0; i < this.count; i++) out[i] = this.heapI[i]!;
    return this.count;
  }

  private visit(node: number, cellDistance: number): void {
    const axis = this.splitAxis[node]!;
    if (axis < 0) {
      this.scan(this.from[node]!, this.to[node]!);
      return;
    }
    const diff = this.q[axis]! - this.splitValue[node]!;
    // points equal to the split value may sit on either side: the near side first, the other by its bound
    this.visit(diff < 0 ? this.left[node]! : this.right[node]!, cellDistance);
    const old = this.offset[axis]!;
    const far = cellDistance - old * old + diff * diff;
    if (this.count < this.k || far <= this.heapD[0]!) {
      this.offset[axis] = diff;
      this.visit(diff < 0 ? this.right[node]! : this.left[node]!, far);
      this.offset[axis] = old;
    }
  }

  /** Squared distance from the query to point i, or Infinity once past `limit` (checked every 4 axes). */
  private distance(i: number, limit: number): number {
    const { dim, points, q } = this;
    const base = i * dim;
    let s = 0;
    let j = 0;
    for (; j + 4 <= dim; j += 4) {
      const t0 = q[j]! - points[base + j]!;
      const t1 = q[j + 1]! - points[base + j + 1]!;
      const t2 = q[j + 2]! - points[base + j + 2]!;
      const t3 = q[j + 3]! - points[base + j + 3]!;
      s += t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
      if (s > limit) return Infinity;
    }
    for (; j < dim; j++) {
      const t = q[j]! - points[base + j]!;
      s += t * t;
    }
    return s > limit ? Infinity : s;
  }

  private scan(from: number, to: number): void {
    const { ids, heapD, heapI, k, exclude } = this;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      if (id === exclude) continue;
      const full = this.count === k;
      // a tie still counts: the lower index may win it
      const limit = full ? heapD[0]! : Infinity;
      const s = this.distance(i, limit);
      if (s === Infinity) continue;
      if (full && s === limit && id > heapI[0]!) {
        this.nearestLeftOut = Math.min(this.nearestLeftOut, s);
        continue;
      }
      if (full) this.replaceTop(s, id);
      else this.add(s, id);
    }
  }

  /**
   * The mean of `values` (by original index) over the k nearest points, those at exactly the
   * k-th distance sharing the places left after the nearer ones equally; with fewer than k
   * points, the mean over all of them. Returns NaN when there is no point.
   */
  meanOf(query: ArrayLike<number>, k: number, values: ArrayLike<number>, exclude = -1): { mean: number; count: number } {
    if (this.found.length < k) this.found = new Int32Array(k);
    const n = this.search(query, k, this.found, exclude);
    if (n === 0) return { mean: Number.NaN, count: 0 };
    let sum = 0;
    if (n < k) {
      for (let i = 0; i < n; i++) sum += values[this.found[i]!]!;
      return { mean: sum / n, count: n };
    }
    const kth = this.heapD[0]!;
    let nearer = 0;
    let tiedSum = 0;
    for (let i = 0; i < n; i++) {
      const v = values[this.heapI[i]!]!;
      if (this.heapD[i]! < kth) {
        sum += v;
        nearer++;
      } else tiedSum += v;
    }
    // every point within the k-th distance was examined (pruning keeps any cell that may hold
    // one): when none at exactly that distance was left out, the heap holds all the tied ones
    if (this.nearestLeftOut !== kth) return { mean: (sum + tiedSum) / k, count: n };
    this.tiedCount = 0;
    this.tiedSum = 0;
    this.tiedValues = values;
    this.offset.fill(0);
    this.visitTies(0, 0, kth);
    this.tiedValues = undefined;
    return { mean: (sum + ((k - nearer) * this.tiedSum) / this.tiedCount) / k, count: n };
  }

  private visitTies(node: number, cellDistance: number, kth: number): void {
    const axis = this.splitAxis[node]!;
    if (axis < 0) {
      const { ids, exclude } = this;
      const values = this.tiedValues!;
      for (let i = this.from[node]!, to = this.to[node]!; i < to; i++) {
        const id = ids[i]!;
        if (id === exclude || this.distance(i, kth) !== kth) continue;
        this.tiedCount++;
        this.tiedSum += values[id]!;
      }
      return;
    }
    const diff = this.q[axis]! - this.splitValue[node]!;
    this.visitTies(diff < 0 ? this.left[node]! : this.right[node]!, cellDistance, kth);
    const old = this.offset[axis]!;
    const far = cellDistance - old * old + diff * diff;
    if (far <= kth) {
      this.offset[axis] = diff;
      this.visitTies(diff < 0 ? this.right[node]! : this.left[node]!, far, kth);
      this.offset[axis] = old;
    }
  }

  /** A max-heap on (distance, index) of the k best so far: adds one while it has room. */
  private add(d: number, id: number): void {
    const hd = this.heapD;
    const hi = this.heapI;
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (hd[p]! > d || (hd[p] === d && hi[p]! > id)) break;
      hd[i] = hd[p]!;
      hi[i] = hi[p]!;
      i = p;
    }
    hd[i] = d;
    hi[i] = id;
  }

  /** Replaces the farthest of the k with a nearer one. */
  private replaceTop(d: number, id: number): void {
    const hd = this.heapD;
    const hi = this.heapI;
    const k = this.k;
    if (hd[0]! < this.nearestLeftOut) this.nearestLeftOut = hd[0]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= k) break;
      if (c + 1 < k && (hd[c + 1]! > hd[c]! || (hd[c + 1] === hd[c] && hi[c + 1]! > hi[c]!))) c++;
      if (!(hd[c]! > d || (hd[c] === d && hi[c]! > id))) break;
      hd[i] = hd[c]!;
      hi[i] = hi[c]!;
      i = c;
    }
    hd[i] = d;
    hi[i] = id;
  }
}
