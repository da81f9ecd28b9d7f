// The main-thread side of scoring: N worker threads, each with the whole model. A micro-batch is
// sharded by session key (the same session always goes to the same worker), each shard is packed
// into typed arrays (view-batch.ts) and transferred; the workers' typed-array results are put
// back in the batch's order. Several batches may be in flight (pipelined ticks): each worker
// takes its messages in order.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type SessionView } from '../journey/session-view.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { fnv1a32 } from '../util/hash.ts';
import { ErrorCodes, JourneylensError, UserError } from '../errors.ts';
import { type BackendName } from './backend.ts';
import { emptyScoredBatch, type ScoredBatch, type StageTimes } from './scoring-core.ts';
import { type FromScoringWorker, type ToScoringWorker, type WorkerLoadOptions } from './scoring-protocol.ts';
import { packViews, packedBuffers } from './view-batch.ts';

/**
 * Starts a worker script next to this file: the compiled .js when running from dist/, or the .ts
 * source under vitest/tsx. A worker does not inherit tsx's loader, and Node 20 ignores `--import
 * tsx` in a worker's execArgv, so a .ts worker is started by a tiny bootstrap that registers tsx
 * in the worker thread first (tsx is a dev dependency; dist/ never needs it).
 */
export function startModelWorker(script: { js: URL; ts: URL }): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(script.js);
  const target = script.ts.href;
  // The ESM build of tsx's API sits beside the CJS one that require.resolve finds.
  const tsxApi = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(bootstrap, { eval: true });
}

export interface ScoringPoolOptions {
  dir: string;
  /** The manifest's model version the main thread verified: every worker must load the same. */
  modelVersion: string;
  spec: ImageSpec;
  workers: number;
  load: WorkerLoadOptions;
  /** Called after every shard scored, with its size and stage times (ms). */
  onShard?: (n: number, times: StageTimes) => void;
}

interface Pending {
  resolve: (m: { batch: ScoredBatch; times: StageTimes }) => void;
  reject: (e: Error) => void;
}

class ScoringWorker {
  readonly pending = new Map<number, Pending>();
  numTensors = 0;
  private closed = false;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromScoringWorker) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new JourneylensError(ErrorCodes.INTERNAL, `scoring worker exited with code ${code}`));
    });
  }

  post(msg: ToScoringWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private onMessage(m: FromScoringWorker): void {
    if (m.type === 'ready' || m.id === null) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'scored') {
      this.numTensors = m.numTensors;
      p.resolve(m);
    } else p.reject(new JourneylensError(ErrorCodes.INTERNAL, `scoring worker: ${m.message}`));
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new JourneylensError(ErrorCodes.INTERNAL, 'the scoring pool is closed'));
    await this.worker.terminate();
  }
}

export class ScoringPool {
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly workers: ScoringWorker[],
    private readonly options: ScoringPoolOptions,
    readonly backend: BackendName,
  ) {}

  /** Starts the workers; each loads and verifies the bundle. Rejects (and stops them) if any fails. */
  static async start(options: ScoringPoolOptions): Promise<ScoringPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, `--scoring-workers must be a positive integer, got ${options.workers}`, { exitCode: 2 });
    }
    // both names literal, so the package check finds the worker among what the CLI loads
    const script = { js: new URL('./scoring-worker.js', import.meta.url), ts: new URL('./scoring-worker.ts', import.meta.url) };
    const started = Array.from({ length: options.workers }, () => startModelWorker(script));
    const ready = started.map(
      (worker) =>
        new Promise<{ backend: BackendName; numTensors: number }>((resolve, reject) => {
          const onMessage = (m: FromScoringWorker): void => {
            cleanup();
            if (m.type === 'ready' && m.modelVersion === options.modelVersion) resolve(m);
            else if (m.type === 'ready') reject(new UserError(ErrorCodes.BUNDLE_INVALID, `model bundle ${options.dir} changed while it was loaded (model ${options.modelVersion}, a scoring worker found ${m.modelVersion}); load it again`));
            else reject(m.type === 'error' ? new UserError(ErrorCodes.BUNDLE_INVALID, m.message) : new JourneylensError(ErrorCodes.INTERNAL, `unexpected '${m.type}' from a scoring worker`));
          };
          const onError = (err: Error): void => {
            cleanup();
            reject(err);
          };
          const onExit = (code: number): void => {
            cleanup();
            reject(new JourneylensError(ErrorCodes.INTERNAL, `scoring worker exited with code ${code} while starting`));
          };
          const cleanup = (): void => {
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
          };
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
          const init: ToScoringWorker = { type: 'init', dir: options.dir, load: options.load };
          worker.postMessage(init);
        }),
    );
    const settled = await Promise.allSettled(ready);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((w) => w.terminate()));
      throw failed.reason;
    }
    const first = (settled[0] as PromiseFulfilledResult<{ backend: BackendName; numTensors: number }>).value;
    const pool = new ScoringPool(
      started.map((w) => new ScoringWorker(w)),
      options,
      first.backend,
    );
    pool.workers.forEach((w, i) => (w.numTensors = (settled[i] as PromiseFulfilledResult<{ numTensors: number }>).value.numTensors));
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Live tensors over all workers, as of their last replies (the `journeylens_tensors` gauge). */
  get tensorCount(): number {
    return this.workers.reduce((a, w) => a + w.numTensors, 0);
  }

  /** Scores the views (sharded by session key); results in the order of `views`. */
  async score(views: readonly SessionView[], detailed = false): Promise<ScoredBatch> {
    if (this.closed) throw new JourneylensError(ErrorCodes.INTERNAL, 'the scoring pool is closed');
    const n = views.length;
    const k = this.workers.length;
    const shards: number[][] = Array.from({ length: k }, () => []);
    for (let i = 0; i < n; i++) shards[k === 1 ? 0 : fnv1a32(views[i]!.sessionId) % k]!.push(i);
    const replies = await Promise.all(
      shards.map(async (idx, w) => {
        if (idx.length === 0) return undefined;
        const packed = packViews(
          idx.map((i) => views[i]!),
          this.options.spec,
        );
        const id = this.nextId++;
        const worker = this.workers[w]!;
        const reply = await new Promise<{ batch: ScoredBatch; times: StageTimes }>((resolve, reject) => {
          worker.pending.set(id, { resolve, reject });
          worker.post({ type: 'score', id, views: packed, detailed }, packedBuffers(packed));
        });
        this.options.onShard?.(idx.length, reply.times);
        return reply.batch;
      }),
    );
    if (k === 1) return replies[0] ?? emptyScoredBatch(0);
    return merge(n, shards, replies);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** The shards' results put back in the batch's order. */
function merge(n: number, shards: number[][], replies: (ScoredBatch | undefined)[]): ScoredBatch {
  const out = emptyScoredBatch(n);
  const columns = ['clusterId', 'centroidId', 'distance', 'novel', 'clusterChurnRate', 'knnChurnRate', 'churnRisk', 'band', 'source'] as const;
  shards.forEach((idx, s) => {
    const part = replies[s];
    if (!part) return;
    for (const c of columns) {
      const to = out[c];
      const from = part[c];
      for (let j = 0; j < idx.length; j++) to[idx[j]!] = from[j]!;
    }
    for (const key of ['embeddings', 'points'] as const) {
      const from = part[key];
      if (!from) continue;
      const width = from.length / Math.max(1, idx.length);
      const to = (out[key] ??= new Float32Array(n * width));
      for (let j = 0; j < idx.length; j++) to.set(from.subarray(j * width, (j + 1) * width), idx[j]! * width);
    }
  });
  return out;
}
