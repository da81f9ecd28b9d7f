// Cluster labels → centroids for online assignment. A cluster may get several centroids:
// a large cluster is split with k-means inside it, and so is a non-convex one (a ring or a
// banana whose mean lies outside the data), so that "nearest centroid" stays a good proxy for
// "nearest cluster". Each centroid carries its radius (a quantile of its members' distances,
// in the index's distance space) for novelty, and a churn rate smoothed toward the global
// rate (m-estimate = Beta prior with strength m), so a 3-member cluster with 3 churners does
// not claim a 100% risk. In 'cosine' space radii are cosine distances; the k-means split
// itself is Euclidean, which is fine for choosing sub-centroids.
import { type ClusterDescription } from '../contracts/bundle-format.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { kmeans } from './kmeans.ts';
import { type Centroid, type CentroidModel, type ClusterStats } from '../model/centroid-model.ts';
import { checkRows, distanceFor, quantile, type DistanceSpace, type Vector } from '../model/vectors.ts';

export interface CentroidOptions {
  space?: DistanceSpace;
  /** Clusters with more members than this get ceil(size / maxCentroidSize) centroids. */
  maxCentroidSize?: number;
  /** Cap on centroids per cluster. */
  maxCentroidsPerCluster?: number;
  /**
   * A cluster is non-convex when the member nearest its mean is farther from it than this
   * fraction of the median member distance (true for rings, ~0 for blobs); it is then split
   * into at least `nonConvexSplit` centroids. 0 disables the test.
   */
  nonConvexRatio?: number;
  nonConvexSplit?: number;
  radiusQuantile?: number;
  /** Centroids with fewer members use their cluster's radius instead of their own. */
  minMembersForRadius?: number;
  /** Prior strength m of the churn-rate m-estimate (pseudo-sessions at the global rate). */
  churnPriorStrength?: number;
  seed?: number;
}

export const centroidDefaults = {
  space: 'l2',
  maxCentroidSize: 1000,
  maxCentroidsPerCluster: 8,
  nonConvexRatio: 0.5,
  nonConvexSplit: 4,
  radiusQuantile: 0.95,
  minMembersForRadius: 5,
  churnPriorStrength: 20,
  seed: 42,
} satisfies Required<CentroidOptions>;

/** Smoothed rate; with nothing labelled it is the prior itself. */
export function smoothedRate(churned: number, labelled: number, prior: number, strength: number): number {
  return (churned + strength * prior) / (labelled + strength);
}

function mean(rows: readonly Vector[], dim: number): number[] {
  const out = new Array<number>(dim).fill(0);
  for (const r of rows) for (let j = 0; j < dim; j++) out[j]! += r[j]!;
  return out.map((v) => v / rows.length);
}

/**
 * Builds centroids from cluster labels (-1 = noise, which gets no centroid).
 * `churn` holds 1/0 per point, or NaN where the outcome is unknown.
 */
export function buildCentroids(
  embeddings: readonly Vector[],
  labels: ArrayLike<number>,
  churn?: ArrayLike<number>,
  options: CentroidOptions = {},
): CentroidModel {
  const o = { ...centroidDefaults, ...options };
  const dim = checkRows(embeddings, 'buildCentroids embeddings');
  if (labels.length !== embeddings.length || (churn && churn.length !== embeddings.length)) {
    throw new UserError(
      ErrorCodes.INPUT_INVALID,
      `buildCentroids: ${embeddings.length} embeddings but ${labels.length} labels and ${churn?.length ?? 'no'} churn values; give one of each per embedding`,
    );
  }
  if (!(o.radiusQuantile > 0 && o.radiusQuantile <= 1)) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `buildCentroids: radiusQuantile must be in (0, 1], got ${o.radiusQuantile}`, { exitCode: 2 });
  }
  const distance = distanceFor(o.space);
  const known = (i: number) => churn !== undefined && !Number.isNaN(churn[i]!);
  let allLabelled = 0;
  let allChurned = 0;
  for (let i = 0; i < embeddings.length; i++) {
    if (!known(i)) continue;
    allLabelled++;
    allChurned += churn![i]! > 0 ? 1 : 0;
  }
  const globalChurnRate = allLabelled > 0 ? allChurned / allLabelled : 0;

  const members = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0) continue;
    const list = members.get(l) ?? [];
    list.push(i);
    members.set(l, list);
  }
  const centroids: Centroid[] = [];
  const clusters: ClusterStats[] = [];
  for (const clusterId of [...members.keys()].sort((a, b) => a - b)) {
    const idx = members.get(clusterId)!;
    const rows = idx.map((i) => embeddings[i]!);
    const centre = mean(rows, dim);
    let parts = Math.ceil(idx.length / o.maxCentroidSize);
    if (o.nonConvexRatio > 0 && idx.length >= 2 * o.nonConvexSplit) {
      const dists = rows.map((r) => distance(r, centre));
      if (dists.reduce((m, d) => Math.min(m, d), Infinity) > o.nonConvexRatio * quantile(dists, 0.5)) parts = Math.max(parts, o.nonConvexSplit);
    }
    parts = Math.max(1, Math.min(parts, o.maxCentroidsPerCluster, idx.length));
    const split = parts === 1 ? { labels: new Int32Array(idx.length), centroids: [centre] } : kmeans(rows, { k: parts, seed: o.seed + clusterId });
    const clusterDists: number[] = [];
    const perPart = split.centroids.map((c, p) => {
      const mine = idx.filter((_, m) => split.labels[m] === p);
      const dists = mine.map((i) => distance(embeddings[i]!, c));
      for (const d of dists) clusterDists.push(d);
      return { vector: Array.from(c), mine, dists };
    });
    const clusterRadius = quantile(clusterDists, o.radiusQuantile);
    const stats: ClusterStats = { clusterId, size: idx.length, centroidIds: [], labelled: 0, churned: 0, churnRate: 0 };
    for (const part of perPart) {
      if (part.mine.length === 0) continue;
      let labelled = 0;
      let churned = 0;
      for (const i of part.mine) {
        if (!known(i)) continue;
        labelled++;
        churned += churn![i]! > 0 ? 1 : 0;
      }
      const centroidId = centroids.length;
      centroids.push({
        centroidId,
        clusterId,
        vector: part.vector,
        radius: part.mine.length >= o.minMembersForRadius ? quantile(part.dists, o.radiusQuantile) : clusterRadius,
        size: part.mine.length,
        labelled,
        churned,
        churnRate: smoothedRate(churned, labelled, globalChurnRate, o.churnPriorStrength),
      });
      stats.centroidIds.push(centroidId);
      stats.labelled += labelled;
      stats.churned += churned;
    }
    stats.churnRate = smoothedRate(stats.churned, stats.labelled, globalChurnRate, o.churnPriorStrength);
    clusters.push(stats);
  }
  return { space: o.space, globalChurnRate, centroids, clusters };
}

/** One row of the bundle's clusters.json: what a marketer sees about a cluster. */
export function describeClusters(model: CentroidModel, labels: ReadonlyMap<number, string> = new Map()): ClusterDescription[] {
  return model.clusters.map((c) => ({
    id: c.clusterId,
    label: labels.get(c.clusterId) ?? `cluster ${c.clusterId}`,
    size: c.size,
    churnRate: c.churnRate,
    radius: Math.max(...c.centroidIds.map((id) => model.centroids[id]!.radius)),
    centroids: c.centroidIds.length,
  }));
}
