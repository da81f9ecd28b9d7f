// The model the processor serves: a verified bundle, its metrics, and hot reload. A reload
// (SIGHUP, or a change in the bundle directory) loads and verifies the new bundle beside the
// old one; only a bundle that passed every check replaces it, so a refused bundle leaves the
// old model serving. New micro-batches use the new scorer; open sessions are kept; the old
// scorer (its worker threads) closes once the batches already handed to it are answered.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type SessionScorer } from '../contracts/scorer.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type Metrics, setClusterInfo, setModelInfo } from '../metrics.ts';
import { type LoadBundleOptions, type LoadedBundle, loadBundle } from './bundle.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { type RiskSetting } from '../contracts/risk.ts';

/** models/default of this package (works from src/model/ and from dist/src/model/). */
export function defaultBundleDir(): string {
  const rel = import.meta.url.includes('/dist/') ? '../../../models/default' : '../../models/default';
  return fileURLToPath(new URL(rel, import.meta.url));
}

/** The bundle `run` serves: the configured one, else the shipped default when it is there. */
export function resolveBundleDir(configured: string | undefined): string | undefined {
  return configured ?? (existsSync(defaultBundleDir()) ? defaultBundleDir() : undefined);
}

export interface ModelRuntimeOptions {
  dir: string;
  log: Logger;
  metrics: Metrics;
  registry: Registry;
  /** Watch the directory for changes (besides SIGHUP; default true). */
  watch?: boolean;
  maxBatch?: number;
  /** Scoring worker threads (default 1). */
  workers?: number;
  /** Search breadth of the neighbours lookup (default the bundle's). */
  neighbourEf?: number;
  /** The risk setting every loaded bundle resolves (contracts/risk.ts). */
  risk?: RiskSetting;
}

export class ModelRuntime {
  private current: LoadedBundle;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  /** Old scorers waiting for their last batch (awaited by close()). */
  private readonly retiring = new Set<Promise<void>>();
  private readonly tensorTimer: NodeJS.Timeout;
  private readonly reloads: Counter<'outcome'>;
  private readonly onHup = () => void this.reload('SIGHUP');

  private constructor(
    bundle: LoadedBundle,
    private readonly options: ModelRuntimeOptions,
  ) {
    this.current = bundle;
    this.reloads =
      (options.registry.getSingleMetric('journeylens_model_reloads_total') as Counter<'outcome'> | undefined) ??
      new Counter({ name: 'journeylens_model_reloads_total', help: 'Model bundle reloads by outcome (loaded, refused).', labelNames: ['outcome'], registers: [options.registry] });
    this.instrument(bundle);
    this.tensorTimer = setInterval(() => options.metrics.tensors.set(this.current.scorer.tensorCount()), 2000);
    this.tensorTimer.unref();
    process.on('SIGHUP', this.onHup);
    this.watchDir();
  }

  /**
   * Watches the directory --bundle names as it resolves now: after a symlink was pointed at a
   * new bundle (and SIGHUP reloaded it), the watch moves to the new target.
   */
  private watchDir(): void {
    const { options } = this;
    if (!(options.watch ?? true)) return;
    this.watcher?.close();
    this.watcher = undefined;
    try {
      this.watcher = watch(options.dir, () => {
        clearTimeout(this.debounce);
        // a copy of a bundle is many file events: wait until it has settled
        this.debounce = setTimeout(() => void this.reload('directory changed'), 1500);
      });
    } catch (err) {
      options.log.warn({ err, dir: options.dir }, 'cannot watch the bundle directory; hot reload only on SIGHUP');
    }
  }

  /** Loads and verifies the bundle; a bad bundle is a UserError naming the file (exit 1). */
  static async start(options: ModelRuntimeOptions): Promise<ModelRuntime> {
    const bundle = await loadBundle(options.dir, ModelRuntime.loadOptions(options));
    options.log.info({ dir: options.dir, modelVersion: bundle.modelVersion, backend: bundle.backend, riskThresholds: bundle.thresholds }, 'model bundle loaded');
    return new ModelRuntime(bundle, options);
  }

  private static loadOptions(o: ModelRuntimeOptions): LoadBundleOptions {
    return { ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}), ...(o.risk ? { risk: o.risk } : {}), ...(o.workers ? { workers: o.workers } : {}), ...(o.neighbourEf ? { neighbourEf: o.neighbourEf } : {}) };
  }

  get bundle(): LoadedBundle {
    return this.current;
  }

  get imageSpec(): ImageSpec {
    return this.current.imageSpec;
  }

  /** The scorer for the next micro-batch. */
  scorer(): SessionScorer {
    return this.current.scorer;
  }

  private instrument(b: LoadedBundle): void {
    const { metrics } = this.options;
    b.scorer.onEncode = (n, seconds) => {
      metrics.encodeBatchSize.observe(n);
      metrics.encodeDurationSeconds.observe(seconds);
    };
    b.scorer.onAssign = (seconds) => metrics.assignDurationSeconds.observe(seconds);
    setModelInfo(metrics, { version: b.modelVersion, backend: b.backend });
    setClusterInfo(metrics, b.clusters);
  }

  /** Loads the directory again; resolves either way (a refusal is logged and counted). */
  reload(why: string): Promise<void> {
    this.reloading ??= (async () => {
      const { log, dir } = this.options;
      try {
        if (!existsSync(dir)) throw new UserError(ErrorCodes.BUNDLE_INVALID, `${dir} does not exist`);
        const next = await loadBundle(dir, { expectSpec: this.current.imageSpec, ...ModelRuntime.loadOptions(this.options) });
        const old = this.current;
        this.instrument(next);
        this.current = next;
        this.reloads.inc({ outcome: 'loaded' });
        const inFlight = old.scorer.batchesInFlight;
        log.info({ why, dir, modelVersion: next.modelVersion, previous: old.modelVersion, riskThresholds: next.thresholds, previousBatchesInFlight: inFlight }, 'model bundle reloaded');
        this.watchDir();
        // batches already handed to the old scorer finish on it; then its workers stop
        const retired = old.scorer.retire().then(
          () => log.info({ modelVersion: old.modelVersion, batchesAnswered: inFlight }, 'previous model closed after its last batch'),
          (err: unknown) => log.warn({ err, modelVersion: old.modelVersion }, 'previous model did not close cleanly'),
        );
        this.retiring.add(retired);
        void retired.finally(() => this.retiring.delete(retired));
      } catch (err) {
        this.reloads.inc({ outcome: 'refused' });
        log.error({ why, dir, err: (err as Error).message, modelVersion: this.current.modelVersion }, 'model bundle refused; the previous model keeps serving');
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async close(): Promise<void> {
    process.removeListener('SIGHUP', this.onHup);
    this.watcher?.close();
    clearTimeout(this.debounce);
    clearInterval(this.tensorTimer);
    await this.reloading;
    await Promise.all(this.retiring);
    await this.current.scorer.close();
  }
}
