// The whole scoring of a micro-batch, in one thread: rasterize → encode → cluster point and
// nearest centroid → neighbours' churn rate → readout and band. It runs in the scoring workers
// (scoring-worker.ts) and inline (tools, eval, tests): one code path, so served and evaluated
// scores cannot drift apart. Results are typed arrays, one value per view, ready to transfer.
import { RISK_BANDS } from '../contracts/records.ts';
import { type RiskThresholds, riskBand } from '../contracts/risk.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { imageSize } from '../journey/rasterize.ts';
import { type ChurnScorer } from './churn-scorer.ts';
import { type ClusterSpace, clusterPointsFlat } from './cluster-space.ts';
import { type ReadoutInputs } from './readout-row.ts';
import { type ScoringInput } from './view-batch.ts';

/** Per view, as typed arrays (index i = view i of the batch). */
export interface ScoredBatch {
  n: number;
  clusterId: Int32Array;
  centroidId: Int32Array;
  distance: Float64Array;
  novel: Uint8Array;
  /** The assigned centroid's churn rate. */
  clusterChurnRate: Float64Array;
  /** Churn share of the nearest labelled embeddings; NaN when not computed. */
  knnChurnRate: Float64Array;
  churnRisk: Float64Array;
  /** Index into RISK_BANDS. */
  band: Uint8Array;
  /** Index into RISK_SOURCES. */
  source: Uint8Array;
  /** With `detailed`: the embeddings [n·dim] and the points assigned in the cluster space [n·pointDim]. */
  embeddings?: Float32Array;
  points?: Float32Array;
}

export const RISK_SOURCES = ['readout', 'cluster', 'cluster+knn'] as const;

/** Milliseconds spent per stage (summed over views). */
export interface StageTimes {
  rasterize: number;
  encode: number;
  /** Cluster point + nearest centroid. */
  assign: number;
  neighbours: number;
  readout: number;
}

export const noStageTimes = (): StageTimes => ({ rasterize: 0, encode: 0, assign: 0, neighbours: 0, readout: 0 });

/** The buffers of a ScoredBatch, to transfer. */
/** Zeroed columns for n views (filled by the scorer, or by the pool when it merges shards). */
export function emptyScoredBatch(n: number): ScoredBatch {
  return {
    n,
    clusterId: new Int32Array(n),
    centroidId: new Int32Array(n),
    distance: new Float64Array(n),
    novel: new Uint8Array(n),
    clusterChurnRate: new Float64Array(n),
    knnChurnRate: new Float64Array(n),
    churnRisk: new Float64Array(n),
    band: new Uint8Array(n),
    source: new Uint8Array(n),
  };
}

export function scoredBuffers(s: ScoredBatch): ArrayBuffer[] {
  return [s.clusterId, s.centroidId, s.distance, s.novel, s.clusterChurnRate, s.knnChurnRate, s.churnRisk, s.band, s.source, s.embeddings, s.points]
    .filter((a) => a !== undefined)
    .map((a) => a.buffer as ArrayBuffer);
}

export interface CoreEncoder {
  encode(images: Float32Array, n: number): Promise<Float32Array>;
  tensorCount(): number;
  close(): Promise<void>;
}

export interface CoreReadout {
  predict: (x: ReadoutInputs) => number;
  /** The readout's feature names (the kNN lookup is skipped when it does not use it). */
  features: readonly string[];
  thresholds: RiskThresholds;
  globalChurnRate: number;
}

export class ScoringCore {
  constructor(
    readonly spec: ImageSpec,
    readonly encoder: CoreEncoder,
    /** Assignment and the kNN rate; the readout (when present) is applied here, see readout-row.ts. */
    private readonly churn: ChurnScorer,
    readonly dim: number,
    private readonly readout: CoreReadout | undefined,
    /** Where centroids live (cluster-space.json); absent in older bundles: the embedding itself. */
    private readonly clusterSpace?: ClusterSpace,
  ) {}

  /** Scores a batch; `times` (when given) accumulates the milliseconds of each stage. */
  async score(input: ScoringInput, options: { detailed?: boolean; times?: StageTimes } = {}): Promise<ScoredBatch> {
    const n = input.length;
    const size = imageSize(this.spec);
    const rows = this.spec.rows;
    const cols = size / rows;
    const times = options.times ?? noStageTimes();
    const out = emptyScoredBatch(n);
    if (n === 0) return out;
    let t = performance.now();
    const lap = (stage: keyof StageTimes): void => {
      const now = performance.now();
      times[stage] += now - t;
      t = now;
    };
    const images = new Float32Array(n * size);
    for (let i = 0; i < n; i++) input.rasterize(i, images.subarray(i * size, (i + 1) * size));
    lap('rasterize');
    const flat = await this.encoder.encode(images, n);
    lap('encode');
    const embeddingOf = (i: number): Float32Array => flat.subarray(i * this.dim, (i + 1) * this.dim);

    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) counts[i] = input.eventCount(i);
    // the points the centroids live among: the cluster space's, else the embeddings themselves
    const points = this.clusterSpace ? clusterPointsFlat(this.clusterSpace, images, counts, flat, rows, cols) : flat;
    this.churn.assignInto(points, n, { clusterId: out.clusterId, centroidId: out.centroidId, distance: out.distance, novel: out.novel, churnRate: out.clusterChurnRate });
    lap('assign');
    // the readout names the features it uses: without knnChurnRate the lookup is skipped
    const wantKnn = this.churn.hasNeighbours && (options.detailed === true || !this.readout || this.readout.features.includes('knnChurnRate'));
    for (let i = 0; i < n; i++) out.knnChurnRate[i] = wantKnn ? this.churn.knnRate(embeddingOf(i)) : Number.NaN;
    lap('neighbours');
    if (this.readout) {
      const { predict, thresholds, globalChurnRate } = this.readout;
      const readoutSource = RISK_SOURCES.indexOf('readout');
      // one inputs object, refilled per view: predict reads it synchronously and keeps nothing
      const x: ReadoutInputs = { embedding: flat, clusterChurnRate: 0, knnChurnRate: 0, image: images, timing: input.timing(0) };
      for (let i = 0; i < n; i++) {
        const knn = out.knnChurnRate[i]!;
        x.embedding = embeddingOf(i);
        x.clusterChurnRate = out.clusterChurnRate[i]!;
        x.knnChurnRate = Number.isNaN(knn) ? globalChurnRate : knn;
        x.image = images.subarray(i * size, (i + 1) * size);
        x.timing = input.timing(i);
        const risk = predict(x);
        out.churnRisk[i] = risk;
        out.band[i] = RISK_BANDS.indexOf(riskBand(risk, thresholds));
        out.source[i] = readoutSource;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const knn = out.knnChurnRate[i]!;
        const r = this.churn.riskOf(out.clusterChurnRate[i]!, Number.isNaN(knn) ? null : knn);
        out.churnRisk[i] = r.churnRisk;
        out.band[i] = RISK_BANDS.indexOf(r.riskBand);
        out.source[i] = RISK_SOURCES.indexOf(r.source);
      }
    }
    lap('readout');
    if (options.detailed) {
      out.embeddings = flat;
      out.points = points === flat ? flat.slice() : points;
    }
    return out;
  }

  tensorCount(): number {
    return this.encoder.tensorCount();
  }

  close(): Promise<void> {
    return this.encoder.close();
  }
}
