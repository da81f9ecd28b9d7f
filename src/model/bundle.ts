// Loads a model bundle directory (written by `journeylens train`) into a SessionScorer for the
// live pipeline. Everything is verified before anything is used: manifest, format version,
// sha256 of every file, image spec (against the running pipeline's, when given), then each
// file's contents. A refused bundle throws UserError(BUNDLE_INVALID) naming the file, so a hot
// reload can keep serving the old one.
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleCluster, type BundleManifest, type ClustersFile } from '../contracts/bundle-format.ts';
import { type SessionScore, type SessionScorer } from '../contracts/scorer.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { imageSize } from '../journey/rasterize.ts';
import { type SessionView } from '../journey/session-view.ts';
import { CentroidIndex, NeighbourIndex } from './assign.ts';
import { type BackendName, initBackend, liveTensorCount } from './backend.ts';
import { readBundleJson, verifyBundle } from './bundle-manifest.ts';
import { type ClusterSpace, clusterPoints, clusterSpaceProblem } from './cluster-space.ts';
import { ChurnScorer, type ChurnScore } from './churn-scorer.ts';
import { type BatchInfo, EncoderClient } from './encoder-client.ts';
import { type AutoencoderModel } from './encoder-model.ts';
import { type ImageSpec, type SessionizationSpec, validateImageSpec, validateSessionizationSpec } from '../journey/image-spec.ts';
import { parseRiskSetting, resolveRiskSetting, riskBand, RISK_SETTING_DEFAULT, type RiskSetting, type RiskThresholds } from '../contracts/risk.ts';
import { parseLogisticModel, readoutPredictor, type LogisticModel } from './readout.ts';
import { type ReadoutInputs } from './readout-row.ts';
import { ENCODER_JSON, ENCODER_WEIGHTS, loadEncoder, readEncoderWeights } from './weights-io.ts';

export interface LoadBundleOptions {
  /** The running pipeline's image spec; a bundle with another spec is refused. */
  expectSpec?: ImageSpec;
  /** 'worker' (default): encode in a worker thread; 'inline': in this thread (tools, eval). */
  encoder?: 'worker' | 'inline';
  /** Largest batch sent to the encoder worker. */
  maxBatch?: number;
  /**
   * The risk setting (contracts/risk.ts; default RISK_SETTING_DEFAULT): where the medium and high
   * bands begin, as probabilities or alert budgets resolved against this bundle's stored risk
   * distribution. The resolved thresholds are `LoadedBundle.thresholds`, for the alert policy.
   */
  risk?: RiskSetting;
  /**
   * Search breadth of the neighbours lookup (hnswlib ef, at least the readout's k = 25); default
   * the bundle's own (64). See docs/benchmarks.md for what it costs and what it changes.
   */
  neighbourEf?: number;
  /** Called after every encoder batch (worker mode) for metrics. */
  onBatch?: (info: BatchInfo) => void;
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
  /** The readout's out-of-fold figures from training (Brier, reliability, risk distribution), when it has them. */
  readoutOutOfFold: LogisticModel['outOfFold'] | undefined;
  scorer: BundleScorer;
}

interface Encoder {
  encode(images: Float32Array, n: number): Promise<Float32Array>;
  tensorCount(): number;
  close(): Promise<void>;
}

function refuse(dir: string, message: string): never {
  throw new UserError(ErrorCodes.BUNDLE_INVALID, `model bundle ${dir} refused: ${message}`);
}

/** Scores micro-batches: rasterize into one buffer → encode → nearest centroid + churn readout. */
export class BundleScorer implements SessionScorer {
  /** Timing hooks for the processor's metrics. */
  onEncode?: (batchSize: number, seconds: number) => void;
  onAssign?: (seconds: number) => void;

  constructor(
    readonly modelVersion: string,
    private readonly spec: ImageSpec,
    private readonly encoder: Encoder,
    /** Assignment and the kNN rate; the readout (when present) is applied here, see readout-row.ts. */
    private readonly churn: ChurnScorer,
    readonly dim: number,
    private readonly readout: { predict: (x: ReadoutInputs) => number; thresholds: RiskThresholds; globalChurnRate: number } | undefined,
    /** Where centroids live (cluster-space.json); absent in older bundles: the embedding itself. */
    private readonly clusterSpace?: ClusterSpace,
  ) {}

  async score(views: readonly SessionView[]): Promise<SessionScore[]> {
    return (await this.scoreDetailed(views)).map((s) => ({
      clusterId: s.assignment.clusterId,
      clusterLabel: s.assignment.label,
      distance: s.assignment.distance,
      novel: s.assignment.novel,
      churnRisk: s.churnRisk,
      riskBand: s.riskBand,
    }));
  }

  /** Like score(), with the embedding, the point assigned in the cluster space and the kNN rate (eval, explanations, parity tests). */
  async scoreDetailed(views: readonly SessionView[]): Promise<(ChurnScore & { embedding: Float32Array; point: Float32Array })[]> {
    const n = views.length;
    if (n === 0) return [];
    const size = imageSize(this.spec);
    // The worker takes ownership of what it is sent, so each batch gets its own buffer when
    // the previous one may still be in flight.
    const images = new Float32Array(n * size);
    for (let i = 0; i < n; i++) views[i]!.rasterize(images.subarray(i * size, (i + 1) * size));
    const t0 = performance.now();
    const flat = await this.encoder.encode(images, n);
    const t1 = performance.now();
    this.onEncode?.(n, (t1 - t0) / 1000);
    const out: (ChurnScore & { embedding: Float32Array; point: Float32Array })[] = [];
    const rows = this.spec.rows;
    const cols = size / rows;
    const points = this.clusterSpace ? clusterPoints(this.clusterSpace, images, views.map((v) => v.eventCount), flat, rows, cols) : undefined;
    for (let i = 0; i < n; i++) {
      const embedding = flat.subarray(i * this.dim, (i + 1) * this.dim);
      const image = images.subarray(i * size, (i + 1) * size);
      const point = points ? points[i]! : embedding;
      const s = this.churn.score(embedding, point);
      if (this.readout) {
        const { predict, thresholds, globalChurnRate } = this.readout;
        s.churnRisk = predict({ embedding, clusterChurnRate: s.assignment.churnRate, knnChurnRate: s.knnChurnRate ?? globalChurnRate, image, timing: views[i]! });
        s.riskBand = riskBand(s.churnRisk, thresholds);
        s.source = 'readout';
      }
      out.push({ ...s, embedding, point });
    }
    this.onAssign?.((performance.now() - t1) / 1000);
    return out;
  }

  /** Embeddings only, for images already rasterized ([n, H, W]). */
  encodeImages(images: Float32Array, n: number): Promise<Float32Array> {
    return this.encoder.encode(images, n);
  }

  /** Live tensors of the encoder (worker: as of its last reply). */
  tensorCount(): number {
    return this.encoder.tensorCount();
  }

  async close(): Promise<void> {
    await this.encoder.close();
  }
}

class InlineEncoder implements Encoder {
  constructor(private readonly model: AutoencoderModel) {}
  encode(images: Float32Array, n: number): Promise<Float32Array> {
    const size = this.model.config.rows * this.model.config.cols;
    const dim = this.model.config.embeddingDim;
    const out = new Float32Array(n * dim);
    for (let from = 0; from < n; from += 512) {
      const to = Math.min(n, from + 512);
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

class WorkerEncoder implements Encoder {
  constructor(private readonly client: EncoderClient) {}
  encode(images: Float32Array, n: number): Promise<Float32Array> {
    return this.client.encode(images, n);
  }
  tensorCount(): number {
    return this.client.tensorCount;
  }
  close(): Promise<void> {
    return this.client.close();
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
    thresholds = resolveRiskSetting(options.risk ?? parseRiskSetting(RISK_SETTING_DEFAULT), readout?.outOfFold?.sessionMaxRisk, '--risk (env JOURNEYLENS_RISK)');
  } catch (err) {
    return refuse(dir, (err as Error).message);
  }
  const churn = new ChurnScorer({ centroids, ...(neighbours ? { neighbours } : {}), thresholds });

  let encoder: Encoder;
  let backend: BackendName;
  if (options.encoder === 'inline') {
    backend = await initBackend();
    encoder = new InlineEncoder(await loadEncoder(dir));
  } else {
    const client = await EncoderClient.start(weights, {
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    });
    backend = client.backend;
    encoder = new WorkerEncoder(client);
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
    scorer: new BundleScorer(manifest.modelVersion, imageSpec, encoder, churn, dim, predict ? { predict, thresholds, globalChurnRate: centroids.globalChurnRate } : undefined, clusterSpace),
  };
}
