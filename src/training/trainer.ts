// The training pipeline behind `journeylens train`: training sessions (training-data.ts) →
// autoencoder → embeddings → clusters → centroids with churn rates → readable labels → HNSW
// centroid and neighbour indexes → a logistic readout → the bundle directory and its manifest.
//
// Reproducibility: every random choice is seeded from `seed`, files are written in a fixed
// order with fixed key order, and the model version is a hash of the data, seed and config, so
// the same inputs give the same files on the same backend. Only manifest.json's createdAt and
// timing figures (seconds, images/s) differ between runs.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleCluster, type BundleManifest, type ClustersFile } from '../contracts/bundle-format.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { CentroidIndex, NeighbourIndex } from '../model/assign.ts';
import { initBackend } from '../model/backend.ts';
import { bundleFileHashes, writeManifest } from './bundle-writer.ts';
import { buildCentroids, describeClusters } from './centroids.ts';
import { chooseK, chooseKDefaults } from './choose-k.ts';
import { labelClusters } from './cluster-labels.ts';
import { clusterPoints, type ClusterInputs, rawClusterFeatures } from '../model/cluster-space.ts';
import { clusterSpaceDefaults, fitClusterSpace } from './cluster-space-fit.ts';
import { type AutoencoderModel } from '../model/encoder-model.ts';
import { hdbscan, hdbscanDefaults } from './hdbscan.ts';
import { imageWidth } from '../journey/image-spec.ts';
import { kmeans } from './kmeans.ts';
import { rocAuc } from './metrics-quality.ts';
import { predictLogisticBatch, readoutFeatureNames, type LogisticModel } from '../model/readout.ts';
import { chooseL2Defaults, fitReadout, type PenaltyScore } from './readout-fit.ts';
import { AGE_FEATURE, imageFeatureNames, QUIET_FEATURE, readoutRowBuilder, summaryFeatureNames } from '../model/readout-row.ts';
import { seededPermutation, seededRandom } from '../util/prng.ts';
import { sessionStatWords } from './session-summary.ts';
import { trainAutoencoder } from './train.ts';
import { type TrainingData, archetypeAri, rasterizeViews } from './training-data.ts';
import { type Vector } from '../model/vectors.ts';
import { type SessionView } from '../journey/session-view.ts';
import { saveEncoder } from '../model/weights-io.ts';
import { type TrainerOptions, resolveReadoutRecipe, trainerDefaults } from './options.ts';

export interface TrainReport {
  dir: string;
  manifest: BundleManifest;
  clusters: BundleCluster[];
  /** Per training session (final state): its point in the cluster space and its cluster (−1 noise). */
  points: Float32Array[];
  clusterOf: Int32Array;
}

/** Stable JSON: object keys sorted, so the same content gives the same bytes. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

function encodeAll(model: AutoencoderModel, images: Float32Array, n: number, size: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let from = 0; from < n; from += 512) {
    const to = Math.min(n, from + 512);
    out.set(model.encodeImages(images.subarray(from * size, to * size), to - from), from * dim);
  }
  return out;
}

function rowsOf(flat: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < flat.length / dim; i++) out.push(flat.subarray(i * dim, (i + 1) * dim));
  return out;
}

/** The readout's inputs for one embedding, as BundleScorer computes them when serving. */
function readoutRates(e: Vector, point: Vector, centroids: CentroidIndex, neighbours: NeighbourIndex, knnK: number, excludeId?: number): { clusterChurnRate: number; knnChurnRate: number } {
  const cluster = centroids.assign(point).churnRate;
  const knn = neighbours.churnRate(e, knnK, excludeId).rate;
  return { clusterChurnRate: cluster, knnChurnRate: Number.isNaN(knn) ? centroids.globalChurnRate : knn };
}

/** Multipliers of the embedding group's penalty tried by the 'summary' readout recipe (readout-fit.ts choosePenalty). */
export const readoutGroupMultipliers = [1, 10, 100, 1000] as const;

/** "L2 = 300 by 3-fold cross-validation …" for the stage log, with the held-out log losses. */
function describePenalty(m: LogisticModel, scores: PenaltyScore[]): string {
  const penalties = m.penalties ? ` (${Object.entries(m.penalties).map(([g, v]) => `${g} ${v}`).join(', ')})` : '';
  const losses = scores.map((c) => `${c.l2}${c.multiplier === 1 ? '' : `×${c.multiplier}`}: ${c.logLoss.toFixed(4)}`).join(', ');
  return `L2 = ${m.l2}${penalties} by ${chooseL2Defaults.folds}-fold cross-validation over sessions (held-out log loss ${losses}); out-of-fold Brier ${m.outOfFold?.brier.toFixed(4) ?? 'n/a'}`;
}

/** Trains everything and writes the bundle to `outDir` (created; files of an older bundle are replaced). */
export async function trainBundle(data: TrainingData, outDir: string, options: TrainerOptions = {}): Promise<TrainReport> {
  const o = { ...trainerDefaults, ...options };
  const stage = o.onStage ?? (() => {});
  const t0 = performance.now();
  const backend = await initBackend();
  const { image } = data.spec;
  const h = image.rows;
  const w = imageWidth(image);
  const size = h * w;
  const sessions = data.sessions;
  const n = sessions.length;

  // Images: every session's final state, then all prefixes (the autoencoder sees what live
  // scoring sees: partial journeys as well as complete ones).
  const views = [...sessions.map((s) => s.final)];
  const owner: number[] = sessions.map((_, i) => i);
  sessions.forEach((s, i) => {
    for (const p of s.prefixes) {
      views.push(p);
      owner.push(i);
    }
  });
  const images = rasterizeViews(views, size);
  stage(`sessionized ${data.events} events into ${n} sessions (${views.length - n} prefix images); backend ${backend}`);

  const trained = await trainAutoencoder(images, views.length, h, w, {
    config: { kind: o.encoder, embeddingDim: o.dim },
    seed: o.seed,
    epochs: o.epochs,
    ...(o.churnWeight > 0 ? { churn: { labels: Float32Array.from(owner, (i) => sessions[i]!.label), weight: o.churnWeight } } : {}),
    ...(o.onTrainProgress ? { onProgress: o.onTrainProgress } : {}),
  });
  const model = trained.model;
  try {
    const flat = encodeAll(model, images, views.length, size, o.dim);
    const emb = rowsOf(flat, o.dim);
    const finals = emb.slice(0, n);

    // The cluster space (cluster-space.ts) is fitted on final states; every image (prefixes
    // too: the readout's cluster rate) gets its point the way BundleScorer computes it.
    const clusterInputs = (j: number): ClusterInputs => ({ image: images.subarray(j * size, (j + 1) * size), rows: h, cols: w, eventCount: views[j]!.eventCount, embedding: emb[j]! });
    const space = fitClusterSpace(
      image,
      finals.map((_, i) => rawClusterFeatures(clusterInputs(i), (o.clusterSpace?.embeddingWeight ?? clusterSpaceDefaults.embeddingWeight) > 0)),
      o.dim,
      o.clusterSpace,
    );
    const points = clusterPoints(space, images, views.map((v) => v.eventCount), flat, h, w);
    const finalPoints = points.slice(0, n);
    stage(`clustering ${n} sessions (${o.clusterer}, ${space.featureNames.length}-d cluster space)`);
    let clusterOf: Int32Array;
    let chosenK: number | null = null;
    if (o.clusterer === 'kmeans') {
      if (o.k !== undefined) clusterOf = kmeans(finalPoints, { k: o.k, seed: o.seed, restarts: chooseKDefaults.restarts }).labels;
      else {
        const chosen = chooseK(finalPoints, { seed: o.seed });
        clusterOf = chosen.labels;
        chosenK = chosen.k;
        stage(`k = ${chosen.k} by silhouette (${chosen.scores.map((x) => `${x.k}: ${x.silhouette.toFixed(3)}`).join(', ')})`);
      }
    } else {
      // 1 % of the points HDBSCAN actually builds its hierarchy on (it subsamples large sets).
      const minClusterSize = o.minClusterSize ?? Math.max(10, Math.round(Math.min(n, hdbscanDefaults.maxPoints) * 0.01));
      clusterOf = hdbscan(finalPoints, { minClusterSize, seed: o.seed }).labels;
    }
    const churn = Float64Array.from(sessions, (s) => s.label);
    const centroidModel = buildCentroids(finalPoints, clusterOf, churn, { seed: o.seed });
    if (centroidModel.centroids.length === 0) {
      throw new UserError(ErrorCodes.INPUT_INVALID, 'train: clustering found no clusters (every session is noise); use --clusterer kmeans or train on more sessions.', { exitCode: 2 });
    }
    const labels = labelClusters(
      sessions.map((s) => s.summary),
      clusterOf,
      { statWords: sessionStatWords },
    );
    const centroids = CentroidIndex.build(centroidModel, labels, { seed: o.seed });
    // The neighbour index holds at most maxNeighbours labelled sessions (seeded sample).
    const labelledIdx = sessions.map((_, i) => i).filter((i) => !Number.isNaN(churn[i]!));
    const inIndex = new Float64Array(n).fill(Number.NaN);
    const perm = seededPermutation(labelledIdx.length, seededRandom(o.seed));
    for (let r = 0; r < Math.min(o.maxNeighbours, labelledIdx.length); r++) inIndex[labelledIdx[perm[r]!]!] = churn[labelledIdx[perm[r]!]!]!;
    const neighbours = NeighbourIndex.build(finals, inIndex, { seed: o.seed });

    // Readout on final and prefix images of labelled sessions. The kNN feature excludes the
    // session's own final image, so no row sees its own outcome.
    const recipe = resolveReadoutRecipe(o.readout, image.rowMode);
    stage(`fitting the churn readout (recipe '${recipe}')`);
    const indexPos = new Int32Array(n).fill(-1);
    let pos = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(inIndex[i]!)) indexPos[i] = pos++;
    const featureNames = [
      ...readoutFeatureNames(o.dim, { cluster: true, knn: true }),
      ...(o.quietFeature ? [QUIET_FEATURE, AGE_FEATURE] : []),
      ...(o.imageFeatures ? imageFeatureNames(image) : []),
      ...(recipe === 'summary' ? summaryFeatureNames(image) : []),
    ];
    const buildRow = readoutRowBuilder(featureNames, image);
    const xs: Float64Array[] = [];
    const ys: number[] = [];
    const isFinal: boolean[] = [];
    const groups: number[] = [];
    const readoutViews: SessionView[] = [];
    let chosenL2: number | null = null;
    emb.forEach((e, j) => {
      const i = owner[j]!;
      if (Number.isNaN(sessions[i]!.label) || (j >= n && o.readoutOn === 'final')) return;
      const rates = readoutRates(e, points[j]!, centroids, neighbours, o.knnK, indexPos[i]! >= 0 ? indexPos[i]! : undefined);
      xs.push(buildRow({ embedding: e, ...rates, image: images.subarray(j * size, (j + 1) * size), timing: views[j]! }));
      ys.push(sessions[i]!.label);
      isFinal.push(j < n);
      groups.push(i);
      readoutViews.push(views[j]!);
    });
    o.onReadoutRows?.({ featureNames, xs, ys, groups, isFinal, views: readoutViews });
    let readout: LogisticModel | undefined;
    let inSampleAuc = Number.NaN;
    const positives = ys.reduce((a, b) => a + b, 0);
    if (positives > 0 && positives < ys.length) {
      const multipliers = recipe === 'summary' ? readoutGroupMultipliers : [1];
      const fitted = fitReadout(xs, ys, groups, isFinal, { featureNames, seed: o.seed, multipliers, ...(o.readoutL2 === 'cv' ? {} : { l2: o.readoutL2 }) });
      readout = fitted.model;
      chosenL2 = readout.l2;
      if (fitted.scores) stage(`readout ${describePenalty(readout, fitted.scores)}`);
      const p = predictLogisticBatch(readout, xs.filter((_, r) => isFinal[r]));
      inSampleAuc = rocAuc(ys.filter((_, r) => isFinal[r]), p);
    } else {
      stage('no churn readout: the labels have a single class (risk falls back to cluster and kNN rates)');
    }

    const ari = archetypeAri(data, (i) => clusterOf[i]!);

    // Prototypes: mean member image per cluster, for `journeylens render --cluster`.
    const described = describeClusters(centroidModel, labels);
    const protos = new Float32Array(described.length * size);
    const count = new Map<number, number>();
    const slot = new Map(described.map((c, i) => [c.id, i]));
    for (let i = 0; i < n; i++) {
      const k = slot.get(clusterOf[i]!);
      if (k === undefined) continue;
      count.set(k, (count.get(k) ?? 0) + 1);
      const dst = protos.subarray(k * size, (k + 1) * size);
      const src = images.subarray(i * size, (i + 1) * size);
      for (let t = 0; t < size; t++) dst[t]! += src[t]!;
    }
    described.forEach((_, k) => {
      const c = count.get(k) ?? 1;
      const dst = protos.subarray(k * size, (k + 1) * size);
      for (let t = 0; t < size; t++) dst[t]! /= c;
    });
    const clusters: BundleCluster[] = described.map((c, k) => {
      const stats = centroidModel.clusters.find((x) => x.clusterId === c.id)!;
      return { ...c, prototype: k, labelled: stats.labelled, churned: stats.churned };
    });

    const config = { seed: o.seed, dim: o.dim, encoder: o.encoder, epochs: o.epochs, clusterer: o.clusterer, k: o.k ?? null, clusterSpace: { ...clusterSpaceDefaults, ...o.clusterSpace }, minClusterSize: o.minClusterSize ?? null, knnK: o.knnK, maxNeighbours: o.maxNeighbours, imageFeatures: o.imageFeatures, quietFeature: o.quietFeature, readout: recipe, readoutOn: o.readoutOn, readoutL2: o.readoutL2, ...(o.churnWeight > 0 ? { churnWeight: o.churnWeight } : {}) };

    stage(`writing the bundle to ${outDir}`);
    mkdirSync(outDir, { recursive: true });
    for (const f of readdirSync(outDir)) rmSync(join(outDir, f), { recursive: true, force: true });
    await saveEncoder(model, outDir);
    writeFileSync(join(outDir, BUNDLE_FILES.clusterSpace), `${JSON.stringify(space, null, 2)}\n`);
    writeFileSync(join(outDir, BUNDLE_FILES.clusters), `${JSON.stringify({ version: 1, rows: h, cols: w, prototypesFile: BUNDLE_FILES.prototypes, clusters } satisfies ClustersFile, null, 2)}\n`);
    writeFileSync(join(outDir, BUNDLE_FILES.prototypes), Buffer.from(protos.buffer, protos.byteOffset, protos.byteLength));
    centroids.save(outDir, BUNDLE_FILES.centroids);
    neighbours.save(outDir, BUNDLE_FILES.neighbours);
    if (readout) writeFileSync(join(outDir, BUNDLE_FILES.readout), `${JSON.stringify(readout, null, 2)}\n`);

    const seconds = (performance.now() - t0) / 1000;
    const noise = clusterOf.reduce((a, c) => a + (c < 0 ? 1 : 0), 0);
    // The version names what was trained (data, config, backend) and what came out: a code
    // change that alters any artefact gives a new version, so signal ids and the model_info
    // metric never call two different models by one name.
    const modelVersion = createHash('sha256').update(data.dataHash).update(stableJson(config)).update(backend).update(stableJson(bundleFileHashes(outDir))).digest('hex').slice(0, 12);
    const manifest = writeManifest(outDir, {
      modelVersion,
      createdAt: new Date().toISOString(),
      imageSpec: image,
      sessionization: data.spec.sessionization,
      training: {
        sessions: n,
        events: data.events,
        prefixImages: views.length - n,
        lateEvents: data.late,
        duplicateEvents: data.duplicates,
        labelRate: data.labelRate,
        churnRate: centroidModel.globalChurnRate,
        dataSha256: data.dataHash,
        ...config,
        backend,
        epochsRun: trained.history.length,
        bestEpoch: trained.bestEpoch,
        stoppedEarly: trained.stoppedEarly,
        trainImages: trained.trainCount,
        validationImages: trained.validationCount,
        encoderSeconds: Number(trained.seconds.toFixed(1)),
        imagesPerSecond: Math.round(trained.imagesPerSecond),
        trainSeconds: Number(seconds.toFixed(1)),
      },
      metrics: {
        valLoss: trained.bestValLoss,
        clusters: clusters.length,
        centroids: centroidModel.centroids.length,
        noiseShare: noise / n,
        ari,
        chosenK,
        readoutL2: chosenL2,
        inSampleAuc: Number.isNaN(inSampleAuc) ? null : inSampleAuc,
      },
    });
    return { dir: outDir, manifest, clusters, points: finalPoints, clusterOf };
  } finally {
    model.dispose();
  }
}
