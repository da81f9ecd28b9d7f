// Messages between EncoderClient (main thread) and encoder-worker (its own TF.js engine).
import { type BackendName } from './backend.ts';
import { type EncoderConfig } from './encoder-model.ts';

export interface WorkerModel {
  config: EncoderConfig;
  /** Parameter values by name (encoder part is enough). */
  weights: Array<[string, Float32Array]>;
}

export type ToWorker =
  | { type: 'init'; backend?: BackendName; model: WorkerModel }
  | { type: 'setModel'; id: number; model: WorkerModel }
  | { type: 'encode'; id: number; images: Float32Array; n: number }
  | { type: 'stats'; id: number };

export type FromWorker =
  | { type: 'ready'; backend: BackendName; numTensors: number }
  | { type: 'encoded'; id: number; embeddings: Float32Array; ms: number; numTensors: number }
  | { type: 'modelSet'; id: number; numTensors: number }
  | { type: 'stats'; id: number; numTensors: number; numBytes: number }
  | { type: 'error'; id: number | null; message: string };
