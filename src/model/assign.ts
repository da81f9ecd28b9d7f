// Online assignment: an HNSW index (hnswlib-node) over the centroids gives, per embedding,
// its cluster, label, distance and novelty; a second HNSW index over the labelled training
// embeddings gives the churn rate of the nearest training sessions (kNN blending).
//
// Saved as two files per index: the hnswlib graph (`<name>.hnsw`) and a JSON sidecar
// (`<name>.json`) with the parameters, dimension and per-point metadata. hnswlib does not
// persist `ef` (it reloads as 10), so the sidecar keeps it and `load` re-applies it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { ErrorCodes, JourneylensError, UserError } from '../errors.ts';
import { type Centroid, type CentroidModel } from './centroid-model.ts';
import { ExactKnn } from './exact-knn.ts';
import { distanceFor, type DistanceSpace, type Vector } from './vectors.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface HnswParams {
  space: DistanceSpace;
  /** Graph out-degree (hnswlib M). */
  m: number;
  efConstruction: number;
  /** Search breadth; higher = better recall, slower. */
  ef: number;
  /** hnswlib's level-generation seed, so an index rebuilds identically. */
  seed: number;
}

/** Defaults measured in bench/assign.ts: recall@1 >= 0.99 up to 100k random 16-d centroids. */
export const hnswDefaults: HnswParams = { space: 'l2', m: 16, efConstruction: 200, ef: 64, seed: 100 };

export interface Assignment {
  clusterId: number;
  centroidId: number;
  label: string;
  /** Distance to the chosen centroid (Euclidean for 'l2', 1 − cos for 'cosine'). */
  distance: number;
  /** Beyond the radius of every one of the k nearest centroids. */
  novel: boolean;
  /** The centroid's smoothed churn rate. */
  churnRate: number;
}

export interface AssignOptions {
  /** Centroids examined per query: the nearest one whose radius covers the point wins. */
  k?: number;
  /** Multiplies every radius before the novelty test. */
  radiusScale?: number;
}

export const assignDefaults = { k: 3, radiusScale: 1 } satisfies Required<AssignOptions>;

const SIDECAR_VERSION = 1;

function checkParams(p: HnswParams): HnswParams {
  const bad = (field: string, rule: string, value: unknown) =>
    new UserError(ErrorCodes.CONFIG_INVALID, `hnsw.${field} ${rule}, got ${JSON.stringify(value)}`, { exitCode: 2 });
  if (p.space !== 'l2' && p.space !== 'cosine') throw bad('space', "must be 'l2' or 'cosine'", p.space);
  if (!Number.isInteger(p.m) || p.m < 2 || p.m > 100) throw bad('m', 'must be an integer from 2 to 100', p.m);
  if (!Number.isInteger(p.efConstruction) || p.efConstruction < 1) throw bad('efConstruction', 'must be a positive integer', p.efConstruction);
  if (!Number.isInteger(p.ef) || p.ef < 1) throw bad('ef', 'must be a positive integer', p.ef);
  return p;
}

function toDistance(space: DistanceSpace, raw: number): number {
  // hnswlib's l2 space returns squared distances.
  return space === 'l2' ? Math.sqrt(Math.max(0, raw)) : raw;
}

function buildHnsw(rows: readonly Vector[], dim: number, p: HnswParams): Hnsw {
  const index = new HierarchicalNSW(p.space, dim);
  index.initIndex({ maxElements: Math.max(1, rows.length), m: p.m, efConstruction: p.efConstruction, randomSeed: p.seed });
  rows.forEach((r, i) => index.addPoint(Array.from(r), i));
  index.setEf(p.ef);
  return index;
}

function checkQuery(q: Vector, dim: number): number[] {
  if (q.length !== dim) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `embedding has ${q.length} values but the index was built for dimension ${dim}; use the encoder of the same bundle`);
  }
  return Array.from(q);
}

function readSidecar<T extends { version: number }>(path: string): T {
  let parsed: T;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (cause) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `cannot read index sidecar ${path}: ${(cause as Error).message}`, { cause });
  }
  if (parsed.version !== SIDECAR_VERSION) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `index sidecar ${path} has version ${parsed.version}; this build reads version ${SIDECAR_VERSION}`);
  }
  return parsed;
}

function loadHnsw(path: string, space: DistanceSpace, dim: number, count: number, ef: number): Hnsw {
  const index = new HierarchicalNSW(space, dim);
  try {
    index.readIndexSync(path);
  } catch (cause) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `cannot read HNSW index ${path}: ${(cause as Error).message}`, { cause });
  }
  if (index.getCurrentCount() !== count) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `HNSW index ${path} holds ${index.getCurrentCount()} points but its sidecar lists ${count}; rebuild the bundle`);
  }
  index.setEf(ef);
  return index;
}

interface CentroidSidecar {
  version: number;
  params: HnswParams;
  dim: number;
  globalChurnRate: number;
  centroids: Centroid[];
  labels: Record<string, string>;
}

/**
 * Up to this many centroid values (centroids × dimension) a query scans them all instead of
 * searching the HNSW graph: exact, and cheaper (bench/assign.ts: 16 centroids 1.6 µs exact vs 8.8 µs
 * HNSW at p50; 1,000 × 16-d break even). A bundle has tens of centroids.
 */
const EXACT_SCAN_VALUES = 16_384;

/** squaredL2(q[qAt, qAt + dim), rows[at, at + dim)): the same sum in the same order. */
function squaredL2At(q: Vector, qAt: number, rows: Float64Array, at: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) {
    const d = q[qAt + i]! - rows[at + i]!;
    s += d * d;
  }
  return s;
}

/** cosineDistance(q[qAt, qAt + dim), rows[at, at + dim)): the same sums in the same order. */
function cosineDistanceAt(q: Vector, qAt: number, rows: Float64Array, at: number, dim: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < dim; i++) {
    const a = q[qAt + i]!;
    const b = rows[at + i]!;
    dot += a * b;
    na += a * a;
    nb += b * b;
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/** Where assignInto writes: one value per point. */
export interface AssignedColumns {
  clusterId: Int32Array;
  centroidId: Int32Array;
  distance: Float64Array;
  novel: Uint8Array;
  churnRate: Float64Array;
}

/** Nearest-centroid assignment through HNSW (an exact scan when there are few centroids). */
export class CentroidIndex {
  readonly params: HnswParams;
  readonly dim: number;
  readonly centroids: readonly Centroid[];
  readonly globalChurnRate: number;
  private readonly labels: Map<number, string>;
  private readonly index: Hnsw;
  /** Centroid vectors, row-major, when few enough to scan (see EXACT_SCAN_VALUES). */
  private readonly flat: Float64Array | undefined;

  private constructor(index: Hnsw, sidecar: Omit<CentroidSidecar, 'version'>) {
    this.index = index;
    this.params = sidecar.params;
    this.dim = sidecar.dim;
    this.centroids = sidecar.centroids;
    this.globalChurnRate = sidecar.globalChurnRate;
    this.labels = new Map(Object.entries(sidecar.labels).map(([k, v]) => [Number(k), v]));
    if (this.centroids.length * this.dim <= EXACT_SCAN_VALUES) {
      this.flat = new Float64Array(this.centroids.length * this.dim);
      this.centroids.forEach((c, i) => this.flat!.set(c.vector, i * this.dim));
    }
  }

  /** `labels` maps cluster id → readable label (see labelClusters). */
  static build(model: CentroidModel, labels: ReadonlyMap<number, string> = new Map(), params: Partial<HnswParams> = {}): CentroidIndex {
    const p = checkParams({ ...hnswDefaults, space: model.space, ...params });
    if (p.space !== model.space) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, `hnsw.space is '${p.space}' but the centroid radii were measured in '${model.space}'; build both with the same space`, { exitCode: 2 });
    }
    if (model.centroids.length === 0) {
      throw new UserError(ErrorCodes.INPUT_INVALID, 'no centroids to index: clustering found no clusters (all noise?); lower minClusterSize or use k-means');
    }
    const dim = model.centroids[0]!.vector.length;
    const index = buildHnsw(model.centroids.map((c) => c.vector), dim, p);
    return new CentroidIndex(index, {
      params: p,
      dim,
      centroids: model.centroids,
      globalChurnRate: model.globalChurnRate,
      labels: Object.fromEntries(labels),
    });
  }

  static load(dir: string, name = 'centroids'): CentroidIndex {
    const sidecar = readSidecar<CentroidSidecar>(join(dir, `${name}.json`));
    const index = loadHnsw(join(dir, `${name}.hnsw`), sidecar.params.space, sidecar.dim, sidecar.centroids.length, sidecar.params.ef);
    return new CentroidIndex(index, sidecar);
  }

  /** Writes `<name>.hnsw` and `<name>.json` into `dir`; returns both paths. */
  save(dir: string, name = 'centroids'): { index: string; sidecar: string } {
    const indexPath = join(dir, `${name}.hnsw`);
    const sidecarPath = join(dir, `${name}.json`);
    this.index.writeIndexSync(indexPath);
    const sidecar: CentroidSidecar = {
      version: SIDECAR_VERSION,
      params: this.params,
      dim: this.dim,
      globalChurnRate: this.globalChurnRate,
      centroids: [...this.centroids],
      labels: Object.fromEntries(this.labels),
    };
    writeFileSync(sidecarPath, JSON.stringify(sidecar));
    return { index: indexPath, sidecar: sidecarPath };
  }

  labelOf(clusterId: number): string {
    return this.labels.get(clusterId) ?? `cluster ${clusterId}`;
  }

  /** Clusters by id → label, for readers of assignments made elsewhere (scoring workers). */
  labelTable(): [number, string][] {
    return [...new Set(this.centroids.map((c) => c.clusterId))].map((id) => [id, this.labelOf(id)]);
  }

  /** The k nearest centroids, nearest first. */
  nearest(embedding: Vector, k = 1): { centroidId: number; distance: number }[] {
    if (this.flat) return this.scan(embedding, k);
    const q = checkQuery(embedding, this.dim);
    const kk = Math.min(k, this.centroids.length);
    const { neighbors, distances } = this.index.searchKnn(q, kk);
    return neighbors
      .map((id, i) => ({ centroidId: id, distance: toDistance(this.params.space, distances[i]!) }))
      .sort((a, b) => a.distance - b.distance);
  }

  private scan(q: Vector, k: number): { centroidId: number; distance: number }[] {
    if (q.length !== this.dim) checkQuery(q, this.dim);
    const flat = this.flat!;
    const dim = this.dim;
    const kk = Math.min(k, this.centroids.length);
    // insertion into a short sorted list: k is a handful
    const ids: number[] = [];
    const ds: number[] = [];
    const cos = this.params.space === 'cosine';
    for (let c = 0; c < this.centroids.length; c++) {
      // by offset, not a subarray per centroid: this runs per scored view
      const d = cos ? cosineDistanceAt(q, 0, flat, c * dim, dim) : squaredL2At(q, 0, flat, c * dim, dim);
      if (ids.length === kk && d >= ds[kk - 1]!) continue;
      // the slot to fill: the next free one, or the farthest one, which drops out
      let at = ids.length === kk ? kk - 1 : ids.length;
      while (at > 0 && ds[at - 1]! > d) {
        ds[at] = ds[at - 1]!;
        ids[at] = ids[at - 1]!;
        at--;
      }
      ds[at] = d;
      ids[at] = c;
    }
    return ids.map((id, i) => ({ centroidId: id, distance: cos ? ds[i]! : Math.sqrt(ds[i]!) }));
  }

  assign(embedding: Vector, options: AssignOptions = {}): Assignment {
    const k = options.k ?? assignDefaults.k;
    const scale = options.radiusScale ?? assignDefaults.radiusScale;
    const hits = this.nearest(embedding, k);
    if (hits.length === 0) throw new JourneylensError(ErrorCodes.INTERNAL, 'HNSW search returned no centroid');
    const covering = hits.find((h) => h.distance <= this.centroids[h.centroidId]!.radius * scale);
    const hit = covering ?? hits[0]!;
    const c = this.centroids[hit.centroidId]!;
    return {
      clusterId: c.clusterId,
      centroidId: c.centroidId,
      label: this.labelOf(c.clusterId),
      distance: hit.distance,
      novel: covering === undefined,
      churnRate: c.churnRate,
    };
  }

  /**
   * assign() for n points stored flat ([n, dim]), written into typed columns: the same answers
   * to the last bit (the same scan, sums and radius test), without an object per point — it runs
   * per scored view. Falls back to assign() per point when the index is searched through HNSW.
   */
  assignInto(points: Float32Array, n: number, options: AssignOptions, out: AssignedColumns): void {
    const dim = this.dim;
    if (points.length !== n * dim) throw new UserError(ErrorCodes.INPUT_INVALID, `assignInto: ${points.length} values for ${n} points of dimension ${dim}; use the encoder of the same bundle`);
    const scale = options.radiusScale ?? assignDefaults.radiusScale;
    if (!this.flat) {
      for (let i = 0; i < n; i++) {
        const a = this.assign(points.subarray(i * dim, (i + 1) * dim), options);
        out.clusterId[i] = a.clusterId;
        out.centroidId[i] = a.centroidId;
        out.distance[i] = a.distance;
        out.novel[i] = a.novel ? 1 : 0;
        out.churnRate[i] = a.churnRate;
      }
      return;
    }
    const flat = this.flat;
    const count = this.centroids.length;
    const kk = Math.min(options.k ?? assignDefaults.k, count);
    if (kk < 1) throw new JourneylensError(ErrorCodes.INTERNAL, 'HNSW search returned no centroid');
    const cos = this.params.space === 'cosine';
    const ids = new Int32Array(kk);
    const ds = new Float64Array(kk);
    for (let i = 0; i < n; i++) {
      const at = i * dim;
      // scan(): insertion into a short sorted list of the kk nearest
      let filled = 0;
      for (let c = 0; c < count; c++) {
        const d = cos ? cosineDistanceAt(points, at, flat, c * dim, dim) : squaredL2At(points, at, flat, c * dim, dim);
        if (filled === kk && d >= ds[kk - 1]!) continue;
        let slot = filled === kk ? kk - 1 : filled++;
        while (slot > 0 && ds[slot - 1]! > d) {
          ds[slot] = ds[slot - 1]!;
          ids[slot] = ids[slot - 1]!;
          slot--;
        }
        ds[slot] = d;
        ids[slot] = c;
      }
      // the nearest one whose radius covers the point, else the nearest
      let hit = 0;
      let covered = false;
      for (let h = 0; h < filled; h++) {
        const distance = cos ? ds[h]! : Math.sqrt(ds[h]!);
        if (distance <= this.centroids[ids[h]!]!.radius * scale) {
          hit = h;
          covered = true;
          break;
        }
      }
      const c = this.centroids[ids[hit]!]!;
      out.clusterId[i] = c.clusterId;
      out.centroidId[i] = c.centroidId;
      out.distance[i] = cos ? ds[hit]! : Math.sqrt(ds[hit]!);
      out.novel[i] = covered ? 0 : 1;
      out.churnRate[i] = c.churnRate;
    }
  }

  assignBatch(embeddings: readonly Vector[], options: AssignOptions = {}): Assignment[] {
    return embeddings.map((e) => this.assign(e, options));
  }
}

interface NeighbourSidecar {
  version: number;
  params: HnswParams;
  dim: number;
  /** '0'/'1' per training embedding, '?' when unknown: compact for 10⁵ rows. */
  outcomes: string;
}

/**
 * The labelled training embeddings: the churn rate of an embedding's neighbours. Searched
 * exactly (exact-knn.ts, built from the points the HNSW file holds, so any bundle works) unless
 * setSearchEf asks for the approximate hnswlib search: on the default bundle the exact search is
 * cheaper than hnswlib at ef 64 (about 2× on generator sessions, less on sessions far from the
 * training embeddings) and gives the true neighbours (bench/scoring-core.ts;
 * docs/model.md "Neighbours lookup" has what it changes in quality).
 */
export class NeighbourIndex {
  readonly params: HnswParams;
  readonly dim: number;
  private readonly outcomes: string;
  private readonly index: Hnsw;
  /** The points (float32 values, as hnswlib stores them), row-major; read lazily from the index when loaded. */
  private rows: Float32Array | undefined;
  private exact: ExactKnn | undefined;
  private churned: Uint8Array | undefined;
  /** 'exact', or the hnswlib ef to search with. */
  private searchMode: 'exact' | number = 'exact';

  private constructor(index: Hnsw, params: HnswParams, dim: number, outcomes: string, rows?: Float32Array) {
    this.index = index;
    this.params = params;
    this.dim = dim;
    this.outcomes = outcomes;
    this.rows = rows;
    // the exact search is Euclidean: an index in cosine space keeps hnswlib
    if (params.space !== 'l2') this.searchMode = params.ef;
  }

  /** `churn`: 1/0 per embedding; NaN (unknown) rows are not indexed. */
  static build(embeddings: readonly Vector[], churn: ArrayLike<number>, params: Partial<HnswParams> = {}): NeighbourIndex {
    const p = checkParams({ ...hnswDefaults, ...params });
    if (churn.length !== embeddings.length) {
      throw new UserError(ErrorCodes.INPUT_INVALID, `NeighbourIndex: ${embeddings.length} embeddings but ${churn.length} churn labels; give one label per embedding`);
    }
    const dim = embeddings[0]?.length ?? 0;
    const keep: Vector[] = [];
    let outcomes = '';
    embeddings.forEach((e, i) => {
      if (Number.isNaN(churn[i]!)) return;
      keep.push(e);
      outcomes += churn[i]! > 0 ? '1' : '0';
    });
    if (keep.length === 0) throw new UserError(ErrorCodes.INPUT_INVALID, 'NeighbourIndex: no embedding has a known churn label');
    const rows = new Float32Array(keep.length * dim);
    keep.forEach((e, i) => rows.set(e, i * dim));
    return new NeighbourIndex(buildHnsw(keep, dim, p), p, dim, outcomes, rows);
  }

  static load(dir: string, name = 'neighbours'): NeighbourIndex {
    const s = readSidecar<NeighbourSidecar>(join(dir, `${name}.json`));
    return new NeighbourIndex(loadHnsw(join(dir, `${name}.hnsw`), s.params.space, s.dim, s.outcomes.length, s.params.ef), s.params, s.dim, s.outcomes);
  }

  save(dir: string, name = 'neighbours'): { index: string; sidecar: string } {
    const indexPath = join(dir, `${name}.hnsw`);
    const sidecarPath = join(dir, `${name}.json`);
    this.index.writeIndexSync(indexPath);
    const sidecar: NeighbourSidecar = { version: SIDECAR_VERSION, params: this.params, dim: this.dim, outcomes: this.outcomes };
    writeFileSync(sidecarPath, JSON.stringify(sidecar));
    return { index: indexPath, sidecar: sidecarPath };
  }

  get size(): number {
    return this.outcomes.length;
  }

  /** How churnRate searches: 'exact', or hnswlib at this ef. */
  get search(): 'exact' | number {
    return this.searchMode;
  }

  /** Searches with hnswlib at this breadth (ef) instead of exactly; the bundle's value is `params.ef`. */
  setSearchEf(ef: number): void {
    checkParams({ ...this.params, ef });
    this.index.setEf(ef);
    this.searchMode = ef;
  }

  /**
   * Builds the exact search now rather than on the first lookup (100-250 ms on the default
   * bundle's 10,000 points): a scorer prepares it before it serves, so a start or a hot reload
   * does not stall its first tick. Nothing to do when searching with hnswlib.
   */
  prepare(): void {
    if (this.searchMode === 'exact') this.exact ??= this.buildExact();
  }

  /** Back to the exact search (the default for an index in 'l2' space). */
  setExactSearch(): void {
    if (this.params.space !== 'l2') throw new UserError(ErrorCodes.CONFIG_INVALID, `the exact neighbours search is Euclidean; this index is in '${this.params.space}' space`, { exitCode: 2 });
    this.searchMode = 'exact';
  }

  /**
   * Share of churners among the k nearest labelled embeddings (exact search: the embeddings tied
   * at the k-th distance share the last places, so identical embeddings count alike whatever
   * their order). `excludeId` drops one indexed point (its position among the labelled rows),
   * for leave-one-out features on the training set itself.
   */
  churnRate(embedding: Vector, k = 25, excludeId?: number): { rate: number; neighbours: number } {
    if (embedding.length !== this.dim) checkQuery(embedding, this.dim);
    if (this.searchMode === 'exact') return this.exactRate(embedding, k, excludeId);
    const q = checkQuery(embedding, this.dim);
    const want = Math.min(this.size, k + (excludeId === undefined ? 0 : 1));
    const { neighbors } = this.index.searchKnn(q, want);
    let n = 0;
    let churned = 0;
    for (const id of neighbors) {
      if (id === excludeId || n === k) continue;
      n++;
      if (this.outcomes[id] === '1') churned++;
    }
    return { rate: n > 0 ? churned / n : Number.NaN, neighbours: n };
  }

  private exactRate(embedding: Vector, k: number, excludeId: number | undefined): { rate: number; neighbours: number } {
    const exact = (this.exact ??= this.buildExact());
    const { mean, count } = exact.meanOf(embedding, k, this.churned!, excludeId ?? -1);
    return { rate: mean, neighbours: count };
  }

  private buildExact(): ExactKnn {
    if (this.rows === undefined) {
      const rows = new Float32Array(this.size * this.dim);
      for (let i = 0; i < this.size; i++) rows.set(this.index.getPoint(i), i * this.dim);
      this.rows = rows;
    }
    this.churned = Uint8Array.from(this.outcomes, (c) => (c === '1' ? 1 : 0));
    return new ExactKnn(this.rows, this.size, this.dim);
  }
}

/** Brute-force nearest row: the baseline for recall and latency checks. */
export function exactNearest(rows: readonly Vector[], query: Vector, space: DistanceSpace = 'l2'): { id: number; distance: number } {
  const distance = distanceFor(space);
  let id = -1;
  let best = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const d = distance(rows[i]!, query);
    if (d < best) {
      best = d;
      id = i;
    }
  }
  return { id, distance: best };
}
