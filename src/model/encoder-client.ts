// The main-thread side of batched inference: callers `await encode(images, n)`; requests are
// queued and packed into batches of up to maxBatch images for one worker, so the event loop
// never waits on the model. Two batches are in flight at a time, so the worker starts the
// next one as soon as it finishes the current one (no round trip in between).
import { type Worker } from 'node:worker_threads';
import { type BackendName } from './backend.ts';
import { type AutoencoderModel, type EncoderConfig } from './encoder-model.ts';
import { type FromWorker, type ToWorker, type WorkerModel } from './encoder-protocol.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { startModelWorker } from './scoring-pool.ts';

const MAX_IN_FLIGHT = 2;

export interface BatchInfo {
  /** Images in the batch. */
  size: number;
  /** Time the worker spent encoding it. */
  ms: number;
  /** Time from the oldest request's arrival to its result. */
  waitMs: number;
}

export interface EncoderClientOptions {
  /** Largest batch sent to the worker (default 256). */
  maxBatch?: number;
  /** Force a backend in the worker; default: best available. */
  backend?: BackendName;
  /** Called after every batch (feed a histogram of batch sizes and durations). */
  onBatch?: (info: BatchInfo) => void;
}

interface Pending {
  images: Float32Array;
  n: number;
  /** Images of this request already sent. */
  sent: number;
  /** Allocated at the first result, sized by the model that produced it. */
  out: Float32Array | undefined;
  done: number;
  arrived: number;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

interface Slice {
  req: Pending;
  from: number;
  count: number;
}

/** Starts the encoder worker (see startModelWorker). */
export function startEncoderWorker(): Worker {
  return startModelWorker({ js: new URL('./encoder-worker.js', import.meta.url), ts: new URL('./encoder-worker.ts', import.meta.url) });
}

export function toWorkerModel(source: AutoencoderModel | { config: EncoderConfig; weights: Map<string, Float32Array> }): WorkerModel {
  const weights = 'weightValues' in source ? source.weightValues('encoder') : source.weights;
  return { config: source.config, weights: [...weights] };
}

export class EncoderClient {
  readonly backend: BackendName;
  private current: EncoderConfig;
  private readonly worker: Worker;
  private readonly maxBatch: number;
  private readonly onBatch: ((info: BatchInfo) => void) | undefined;
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, { slices: Slice[]; waitFrom: number }>();
  private readonly calls = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  private lastTensors: number;
  private readonly rows: number;
  private readonly cols: number;

  private constructor(worker: Worker, ready: { backend: BackendName; numTensors: number }, config: EncoderConfig, options: EncoderClientOptions) {
    this.worker = worker;
    this.backend = ready.backend;
    this.lastTensors = ready.numTensors;
    this.current = config;
    this.rows = config.rows;
    this.cols = config.cols;
    this.maxBatch = options.maxBatch ?? 256;
    this.onBatch = options.onBatch;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new JourneylensError(ErrorCodes.INTERNAL, `encoder worker exited with code ${code}`));
    });
  }

  /** Starts a worker, initialises its backend and model; resolves when it can encode. */
  static async start(
    model: AutoencoderModel | { config: EncoderConfig; weights: Map<string, Float32Array> },
    options: EncoderClientOptions = {},
  ): Promise<EncoderClient> {
    const maxBatch = options.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new JourneylensError(ErrorCodes.CONFIG_INVALID, `maxBatch must be a positive integer (got ${maxBatch})`);
    const worker = startEncoderWorker();
    const wm = toWorkerModel(model);
    const ready = await new Promise<{ backend: BackendName; numTensors: number }>((resolve, reject) => {
      const onMessage = (m: FromWorker): void => {
        cleanup();
        if (m.type === 'ready') resolve(m);
        else reject(new JourneylensError(ErrorCodes.INTERNAL, m.type === 'error' ? `encoder worker failed to start: ${m.message}` : `unexpected '${m.type}' from encoder worker`));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new JourneylensError(ErrorCodes.INTERNAL, `encoder worker exited with code ${code} while starting`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      const init: ToWorker = { type: 'init', model: wm, ...(options.backend === undefined ? {} : { backend: options.backend }) };
      worker.postMessage(init);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    return new EncoderClient(worker, ready, wm.config, options);
  }

  /** The served model's config (changes on setModel). */
  get config(): EncoderConfig {
    return this.current;
  }

  /** Live tensors in the worker's engine, as of its last reply (the `journeylens_tensors` gauge). */
  get tensorCount(): number {
    return this.lastTensors;
  }

  /** Requests waiting (not yet sent to the worker), in images. */
  get queuedImages(): number {
    return this.queue.reduce((a, p) => a + p.n - p.sent, 0);
  }

  /** Encodes n images (row-major [n, H, W]); resolves to n×D embeddings. */
  encode(images: Float32Array, n: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new JourneylensError(ErrorCodes.INTERNAL, 'EncoderClient is closed'));
    const size = this.rows * this.cols;
    if (!Number.isInteger(n) || n < 0 || images.length !== n * size) {
      return Promise.reject(new JourneylensError(ErrorCodes.INPUT_INVALID, `encode: got ${images.length} values for ${n} images of ${this.rows}×${this.cols}`));
    }
    if (n === 0) return Promise.resolve(new Float32Array(0));
    return new Promise((resolve, reject) => {
      this.queue.push({
        images, n, sent: 0, out: undefined, done: 0,
        arrived: performance.now(), resolve, reject,
      });
      this.pump();
    });
  }

  /** Swaps the worker's model (hot reload); batches already sent finish on the old one. */
  async setModel(model: AutoencoderModel | { config: EncoderConfig; weights: Map<string, Float32Array> }): Promise<void> {
    const wm = toWorkerModel(model);
    if (wm.config.rows !== this.rows || wm.config.cols !== this.cols) {
      throw new JourneylensError(ErrorCodes.BUNDLE_INVALID, `new model expects ${wm.config.rows}×${wm.config.cols} images, this client serves ${this.rows}×${this.cols}`);
    }
    const reply = await this.call((id) => ({ type: 'setModel', id, model: wm }));
    if (reply.type === 'modelSet') this.lastTensors = reply.numTensors;
    this.current = wm.config;
  }

  /** Fresh tensor count and bytes from the worker. */
  async stats(): Promise<{ numTensors: number; numBytes: number }> {
    const reply = await this.call((id) => ({ type: 'stats', id }));
    if (reply.type !== 'stats') throw new JourneylensError(ErrorCodes.INTERNAL, `unexpected '${reply.type}' from encoder worker`);
    this.lastTensors = reply.numTensors;
    return { numTensors: reply.numTensors, numBytes: reply.numBytes };
  }

  /** Rejects queued requests, waits for nothing, stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new JourneylensError(ErrorCodes.INTERNAL, 'EncoderClient closed'));
    await this.worker.terminate();
  }

  private call(make: (id: number) => ToWorker): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new JourneylensError(ErrorCodes.INTERNAL, 'EncoderClient is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage(make(id));
    });
  }

  private pump(): void {
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length > 0 && !this.closed) this.sendBatch();
  }

  private sendBatch(): void {
    const size = this.rows * this.cols;
    const slices: Slice[] = [];
    let total = 0;
    for (const req of this.queue) {
      if (total >= this.maxBatch) break;
      const count = Math.min(req.n - req.sent, this.maxBatch - total);
      if (count <= 0) continue;
      slices.push({ req, from: req.sent, count });
      req.sent += count;
      total += count;
    }
    while (this.queue.length > 0 && this.queue[0]!.sent === this.queue[0]!.n) this.queue.shift();
    // Copy into a fresh buffer that is transferred (the caller keeps its own array).
    const images = new Float32Array(total * size);
    let at = 0;
    for (const s of slices) {
      images.set(s.req.images.subarray(s.from * size, (s.from + s.count) * size), at * size);
      at += s.count;
    }
    const id = this.nextId++;
    this.inFlight.set(id, { slices, waitFrom: Math.min(...slices.map((s) => s.req.arrived)) });
    const msg: ToWorker = { type: 'encode', id, images, n: total };
    this.worker.postMessage(msg, [images.buffer]);
  }

  private onMessage(m: FromWorker): void {
    const batch = 'id' in m && m.id !== null ? this.inFlight.get(m.id) : undefined;
    if (m.type === 'encoded' && batch !== undefined) {
      const { slices, waitFrom } = batch;
      this.inFlight.delete(m.id);
      this.lastTensors = m.numTensors;
      const total = slices.reduce((a, s) => a + s.count, 0);
      const d = m.embeddings.length / total;
      let at = 0;
      for (const s of slices) {
        const req = s.req;
        req.out ??= new Float32Array(req.n * d);
        if (req.out.length !== req.n * d) {
          // Split across a hot reload that changed D: its halves are not comparable.
          req.reject(new JourneylensError(ErrorCodes.INTERNAL, 'the model changed embedding size while this request was being encoded; retry it', { canRetry: true }));
        } else {
          req.out.set(m.embeddings.subarray(at * d, (at + s.count) * d), s.from * d);
          req.done += s.count;
          if (req.done === req.n) req.resolve(req.out);
        }
        at += s.count;
      }
      this.onBatch?.({ size: at, ms: m.ms, waitMs: performance.now() - waitFrom });
      this.pump();
      return;
    }
    if (m.type === 'error' && batch !== undefined && m.id !== null) {
      const { slices } = batch;
      this.inFlight.delete(m.id);
      const err = new JourneylensError(ErrorCodes.INTERNAL, `encoder worker: ${m.message}`);
      for (const s of new Set(slices.map((x) => x.req))) s.reject(err);
      const failed = new Set(slices.map((x) => x.req));
      for (let i = this.queue.length - 1; i >= 0; i--) if (failed.has(this.queue[i]!)) this.queue.splice(i, 1);
      this.pump();
      return;
    }
    const id = 'id' in m ? m.id : null;
    if (id !== null) {
      const call = this.calls.get(id);
      if (call !== undefined) {
        this.calls.delete(id);
        if (m.type === 'error') call.reject(new JourneylensError(ErrorCodes.INTERNAL, `encoder worker: ${m.message}`));
        else call.resolve(m);
      }
    }
  }

  private failAll(err: Error): void {
    const reqs = new Set<Pending>(this.queue);
    for (const b of this.inFlight.values()) for (const s of b.slices) reqs.add(s.req);
    this.queue.length = 0;
    this.inFlight.clear();
    for (const r of reqs) r.reject(err);
    for (const c of this.calls.values()) c.reject(err);
    this.calls.clear();
  }
}
