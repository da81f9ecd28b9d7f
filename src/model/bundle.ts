// Loads a model bundle directory (written by `journeylens train`) into a SessionScorer for the
// live pipeline. Everything is verified before anything is used: manifest, format version,
// sha256 of every file, image spec (against the running pipeline's, when given), then each
// file's contents. A refused bundle throws UserError(BUNDLE_INVALID) naming the file, so a hot
// reload can keep serving the old one.
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleCluster, type BundleManifest, type ClustersFile } from '../contracts/bundle-format.ts';
import { type SessionScore, type SessionScorer } from '../contracts/scorer.ts';
import { ErrorCodes, JourneylensError, UserError } from '../errors.ts';
import { imageSize } from '../journey/rasterize.ts';
import { type SessionView } from '../journey/session-view.ts';
import { RISK_BANDS } from '../contracts/records.ts';
import { CentroidIndex, NeighbourIndex } from './assign.ts';
import { type BackendName, initBackend, liveTensorCount } from './backend.ts';
import { readBundleJson, verifyBundle } from './bundle-manifest.ts';
import { type ClusterSpace, clusterSpaceProblem } from './cluster-space.ts';
import { ChurnScorer, type ChurnScore } from './churn-scorer.ts';
import { type AutoencoderModel } from './encoder-model.ts';
import { type CoreEncoder, RISK_SOURCES, type ScoredBatch, ScoringCore, type StageTimes, noStageTimes } from './scoring-core.ts';
import { ScoringPool } from './scoring-pool.ts';
import { viewsInput } from './view-batch.ts';
import { type ImageSpec, type SessionizationSpec, validateImageSpec, validateSessionizationSpec } from '../journey/image-spec.ts';
import { parseRiskSetting, resolveRiskSetting, RISK_SETTING_DEFAULT, type RiskSetting, type RiskThresholds } from '../contracts/risk.ts';
import { budgetQuantiles, parseLogisticModel, readoutPredictor, type LogisticModel } from './readout.ts';
import { type ReadoutInputs } from './readout-row.ts';
import { ENCODER_JSON, ENCODER_WEIGHTS, loadEncoder, readEncoderWeights } from './weights-io.ts';

export interface LoadBundleOptions {
  /** The running pipeline's image spec; a bundle with another spec is refused. */
  expectSpec?: ImageSpec;
  /** 'worker' (default): score in worker threads; 'inline': in this thread (tools, eval). */
  encoder?: 'worker' | 'inline';
  /** Scoring worker threads (worker mode; default 1); sessions are sharded among them by key. */
  workers?: number;
  /** Largest batch the encoder takes at once. */
  maxBatch?: number;
  /**
   * The risk setting (contracts/risk.ts; default RISK_SETTING_DEFAULT): where the medium and high
   * bands begin, as probabilities or alert budgets resolved against this bundle's stored risk
   * distribution. The resolved thresholds are `LoadedBundle.thresholds`, for the alert policy.
   */
  risk?: RiskSetting;
  /**
   * Search the neighbours lookup with hnswlib at this breadth (ef, at least the readout's k = 25)
   * instead of exactly (the default: exact-knn.ts). See docs/model.md "Neighbours lookup" for
   * what each costs and changes.
   */
  neighbourEf?: number;
}

export interface LoadedBundle {
  dir: string;
  manifest: BundleManifest;
  modelVersion: string;
  imageSpec: ImageSpec;
  sessionization: SessionizationSpec;
  clusters: BundleCluster[];
  backend: BackendName;
  /** Where this bundle's medium and high bands begin (the risk setting resolved for it). */
  thresholds: RiskThresholds;
  /** The readout's out-of-fold figures from training (Brier, reliability), when it has them. */
  readoutOutOfFold: LogisticModel['outOfFold'] | undefined;
  /** The distribution alert budgets resolve against (readout.ts `budgetQuantiles`), when the readout has one. */
  readoutRiskQuantiles: number[] | undefined;
  scorer: BundleScorer;
}

function refuse(dir: string, message: string): never {
  throw new UserError(ErrorCodes.BUNDLE_INVALID, `model bundle ${dir} refused: ${message}`);
}

/** Cumulative scoring work: views scored and milliseconds per stage (all workers together). */
export interface ScoringCosts extends StageTimes {
  views: number;
}

/**
 * Scores micro-batches: rasterize → encode → nearest centroid → neighbours → readout
 * (scoring-core.ts), in worker threads (scoring-pool.ts) or inline.
 */
export class BundleScorer implements SessionScorer {
  /** Timing hooks for the processor's metrics (per scored batch or shard). */
  onEncode?: (batchSize: number, seconds: number) => void;
  onAssign?: (seconds: number) => void;
  private readonly totals: ScoringCosts = { views: 0, ...noStageTimes() };
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private retiring: Promise<void> | undefined;

  constructor(
    readonly modelVersion: string,
    readonly spec: ImageSpec,
    private readonly engine: { core: ScoringCore } | { pool: ScoringPool },
    private readonly labelOf: (clusterId: number) => string,
  ) {}

  async score(views: readonly SessionView[]): Promise<SessionScore[]> {
    const b = await this.scoreBatch(views, false);
    const out: SessionScore[] = new Array(b.n);
    for (let i = 0; i < b.n; i++) {
      const clusterId = b.clusterId[i]!;
      out[i] = { clusterId, clusterLabel: this.labelOf(clusterId), distance: b.distance[i]!, novel: b.novel[i] === 1, churnRisk: b.churnRisk[i]!, riskBand: RISK_BANDS[b.band[i]!]! };
    }
    return out;
  }

  /** Like score(), with the embedding, the point assigned in the cluster space and the kNN rate (eval, explanations, parity tests). */
  async scoreDetailed(views: readonly SessionView[]): Promise<(ChurnScore & { embedding: Float32Array; point: Float32Array })[]> {
    const b = await this.scoreBatch(views, true);
    const dim = b.embeddings!.length / Math.max(1, b.n);
    const pointDim = b.points!.length / Math.max(1, b.n);
    return Array.from({ length: b.n }, (_, i) => {
      const clusterId = b.clusterId[i]!;
      const knn = b.knnChurnRate[i]!;
      return {
        assignment: { clusterId, centroidId: b.centroidId[i]!, label: this.labelOf(clusterId), distance: b.distance[i]!, novel: b.novel[i] === 1, churnRate: b.clusterChurnRate[i]! },
        knnChurnRate: Number.isNaN(knn) ? null : knn,
        churnRisk: b.churnRisk[i]!,
        riskBand: RISK_BANDS[b.band[i]!]!,
        source: RISK_SOURCES[b.source[i]!]!,
        embedding: b.embeddings!.subarray(i * dim, (i + 1) * dim),
        point: b.points!.subarray(i * pointDim, (i + 1) * pointDim),
      };
    });
  }

  /** Views scored and milliseconds per stage so far (bench/, metrics). */
  costs(): ScoringCosts {
    return { ...this.totals };
  }

  /** Scoring worker threads (0: inline). */
  get workers(): number {
    return 'pool' in this.engine ? this.engine.pool.size : 0;
  }

  /** The in-thread scoring core (inline mode only: what a scoring worker runs). */
  inlineCore(): ScoringCore {
    if (!('core' in this.engine)) throw new JourneylensError(ErrorCodes.INTERNAL, 'this scorer scores in worker threads: it has no inline core');
    return this.engine.core;
  }

  /** Live tensors of the encoder(s) (workers: as of their last replies). */
  tensorCount(): number {
    return 'core' in this.engine ? this.engine.core.tensorCount() : this.engine.pool.tensorCount;
  }

  async close(): Promise<void> {
    if ('core' in this.engine) await this.engine.core.close();
    else await this.engine.pool.close();
  }

  /** Batches handed to this scorer and not answered yet. */
  get batchesInFlight(): number {
    return this.inFlight;
  }

  /**
   * Closes once every batch already handed to this scorer has been answered (a hot reload's old
   * scorer: pipelined ticks cut before the swap are still being scored on it). The caller hands
   * it no new batches.
   */
  retire(): Promise<void> {
    this.retiring ??= (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      await this.close();
    })();
    return this.retiring;
  }

  private async scoreBatch(views: readonly SessionView[], detailed: boolean): Promise<ScoredBatch> {
    this.inFlight++;
    try {
      return await this.scoreNow(views, detailed);
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  private async scoreNow(views: readonly SessionView[], detailed: boolean): Promise<ScoredBatch> {
    if ('pool' in this.engine) return this.engine.pool.score(views, detailed);
    const times = noStageTimes();
    const b = await this.engine.core.score(viewsInput(views), { detailed, times });
    this.account(views.length, times);
    return b;
  }

  /** Adds a scored batch or shard to the totals and the metrics hooks. */
  account(n: number, times: StageTimes): void {
    this.totals.views += n;
    for (const k of Object.keys(times) as (keyof StageTimes)[]) this.totals[k] += times[k];
    this.onEncode?.(n, times.encode / 1000);
    this.onAssign?.((times.assign + times.neighbours + times.readout) / 1000);
  }
}

class InlineEncoder implements CoreEncoder {
  constructor(
    private readonly model: AutoencoderModel,
    private readonly maxBatch: number,
  ) {}
  encode(images: Float32Array, n: number): Promise<Float32Array> {
    const size = this.model.config.rows * this.model.config.cols;
    const dim = this.model.config.embeddingDim;
    const out = new Float32Array(n * dim);
    for (let from = 0; from < n; from += this.maxBatch) {
      const to = Math.min(n, from + this.maxBatch);
      out.set(this.model.encodeImages(images.subarray(from * size, to * size), to - from), from * dim);
    }
    return Promise.resolve(out);
  }
  tensorCount(): number {
    return liveTensorCount();
  }
  close(): Promise<void> {
    this.model.dispose();
    return Promise.resolve();
  }
}

/**
 * Verifies and loads a bundle.
 *
 * @example
 * const bundle = await loadBundle('models/default', { expectSpec: store.image });
 * const scores = await bundle.scorer.score(views); // one SessionScore per view, in order
 * await bundle.scorer.close();
 */
export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const required = [ENCODER_JSON, ENCODER_WEIGHTS, BUNDLE_FILES.clusters, `${BUNDLE_FILES.centroids}.hnsw`, `${BUNDLE_FILES.centroids}.json`];
  const manifest = verifyBundle(dir, { requiredFiles: required, ...(options.expectSpec ? { expectSpec: options.expectSpec } : {}) });
  let imageSpec: ImageSpec;
  let sessionization: SessionizationSpec;
  try {
    imageSpec = validateImageSpec(manifest.imageSpec, 'manifest.json imageSpec');
    sessionization = validateSessionizationSpec(manifest.sessionization, 'manifest.json sessionization');
  } catch (err) {
    return refuse(dir, (err as Error).message);
  }
  const weights = await readEncoderWeights(dir).catch((err: unknown) => refuse(dir, (err as Error).message));
  const h = imageSpec.rows;
  const size = imageSize(imageSpec);
  if (weights.config.rows !== h || weights.config.rows * weights.config.cols !== size) {
    refuse(dir, `${ENCODER_JSON} is for ${weights.config.rows}×${weights.config.cols} images but the manifest's image spec gives ${h}×${size / h}; retrain the bundle.`);
  }
  const clustersFile = readBundleJson<ClustersFile>(dir, BUNDLE_FILES.clusters);
  if (!clustersFile || !Array.isArray(clustersFile.clusters)) refuse(dir, `${BUNDLE_FILES.clusters} has no "clusters" list.`);
  const files = manifest.files;
  const centroids = CentroidIndex.load(dir, BUNDLE_FILES.centroids);
  const dim = weights.config.embeddingDim;
  let clusterSpace: ClusterSpace | undefined;
  if (BUNDLE_FILES.clusterSpace in files) {
    const json = readBundleJson<unknown>(dir, BUNDLE_FILES.clusterSpace);
    const problem = clusterSpaceProblem(json, imageSpec, dim);
    if (problem) refuse(dir, `${BUNDLE_FILES.clusterSpace}: ${problem}; retrain the bundle.`);
    clusterSpace = json as ClusterSpace;
  }
  const pointDim = clusterSpace ? clusterSpace.featureNames.length : dim;
  if (centroids.dim !== pointDim) {
    refuse(dir, `${BUNDLE_FILES.centroids}.json is ${centroids.dim}-d but ${clusterSpace ? `${BUNDLE_FILES.clusterSpace} gives ${pointDim}-d points` : `the encoder gives ${dim}-d embeddings`}; retrain the bundle.`);
  }
  const neighbours = `${BUNDLE_FILES.neighbours}.hnsw` in files ? NeighbourIndex.load(dir, BUNDLE_FILES.neighbours) : undefined;
  if (neighbours && options.neighbourEf !== undefined) neighbours.setSearchEf(options.neighbourEf);
  let readout: LogisticModel | undefined;
  if (BUNDLE_FILES.readout in files) {
    const json = readBundleJson<unknown>(dir, BUNDLE_FILES.readout);
    try {
      readout = parseLogisticModel(json, join(dir, BUNDLE_FILES.readout));
    } catch (err) {
      refuse(dir, `${BUNDLE_FILES.readout}: ${(err as Error).message}`);
    }
  }
  let predict: ((x: ReadoutInputs) => number) | undefined;
  if (readout) {
    const cannot = (name: string, why: string): never =>
      refuse(dir, `${BUNDLE_FILES.readout} uses the feature "${name}", which this bundle cannot provide (${why}); retrain the bundle.`);
    for (const name of readout.featureNames) {
      if (/^emb\d+$/.test(name) && Number(name.slice(3)) >= dim) cannot(name, `embedding dimension ${dim}`);
      if (name === 'knnChurnRate' && neighbours === undefined) cannot(name, 'no neighbour index');
    }
    try {
      predict = readoutPredictor(readout, imageSpec);
    } catch (err) {
      const name = readout.featureNames.find((n) => (err as Error).message.includes(`feature ${n} `)) ?? '?';
      cannot(name, `${(err as Error).message.replace(/^readout feature \S+ /, '')} (image spec: ${imageSpec.rowMode} mode, event types ${imageSpec.eventTypes.join(', ')})`);
    }
  }
  // Budgets resolve against the readout's stored distribution; a risk setting that cannot be met
  // refuses the bundle, so a hot reload keeps the old model (and its thresholds) serving.
  let thresholds: RiskThresholds;
  try {
    thresholds = resolveRiskSetting(options.risk ?? parseRiskSetting(RISK_SETTING_DEFAULT), budgetQuantiles(readout), '--risk (env JOURNEYLENS_RISK)');
  } catch (err) {
    return refuse(dir, (err as Error).message);
  }
  const churn = new ChurnScorer({ centroids, ...(neighbours ? { neighbours } : {}), thresholds });

  const readoutParts = predict && readout ? { predict, features: readout.featureNames, thresholds, globalChurnRate: centroids.globalChurnRate } : undefined;
  let engine: { core: ScoringCore } | { pool: ScoringPool };
  let backend: BackendName;
  if (options.encoder === 'inline') {
    backend = await initBackend();
    // this thread scores (a scoring worker, or a tool): the neighbours search is ready before it serves
    neighbours?.prepare();
    const encoder = new InlineEncoder(await loadEncoder(dir), options.maxBatch ?? 512);
    engine = { core: new ScoringCore(imageSpec, encoder, churn, dim, readoutParts, clusterSpace) };
  } else {
    const load = {
      expectSpec: imageSpec,
      ...(options.risk ? { risk: options.risk } : {}),
      ...(options.neighbourEf !== undefined ? { neighbourEf: options.neighbourEf } : {}),
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
    };
    let account: (n: number, times: StageTimes) => void = () => undefined;
    const pool = await ScoringPool.start({ dir, modelVersion: manifest.modelVersion, spec: imageSpec, workers: options.workers ?? 1, load, onShard: (n, times) => account(n, times) });
    backend = pool.backend;
    engine = { pool };
    const scorer = new BundleScorer(manifest.modelVersion, imageSpec, engine, (id) => centroids.labelOf(id));
    account = (n, times) => scorer.account(n, times);
    return { dir, manifest, modelVersion: manifest.modelVersion, imageSpec, sessionization, clusters: clustersFile.clusters, backend, thresholds, readoutOutOfFold: readout?.outOfFold, readoutRiskQuantiles: budgetQuantiles(readout), scorer };
  }
  return {
    dir,
    manifest,
    modelVersion: manifest.modelVersion,
    imageSpec,
    sessionization,
    clusters: clustersFile.clusters,
    backend,
    thresholds,
    readoutOutOfFold: readout?.outOfFold,
    readoutRiskQuantiles: budgetQuantiles(readout),
    scorer: new BundleScorer(manifest.modelVersion, imageSpec, engine, (id) => centroids.labelOf(id)),
  };
}
