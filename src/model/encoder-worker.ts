// Worker-thread entry: owns a TF.js engine and one model, encodes the batches it is sent.
// Running here keeps model time off the main event loop (Kafka heartbeats, fetches).
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { AutoencoderModel } from './encoder-model.ts';
import { type FromWorker, type ToWorker, type WorkerModel } from './encoder-protocol.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

const port = parentPort;
if (port === null) throw new JourneylensError(ErrorCodes.INTERNAL, 'encoder-worker.ts must run as a worker thread');

let model: AutoencoderModel | undefined;

function build(m: WorkerModel): AutoencoderModel {
  return AutoencoderModel.fromWeights(m.config, new Map(m.weights));
}

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      const backend = await initBackend(msg.backend === undefined ? {} : { prefer: msg.backend });
      model = build(msg.model);
      send({ type: 'ready', backend, numTensors: tf.memory().numTensors });
      return;
    }
    case 'setModel': {
      const next = build(msg.model);
      model?.dispose();
      model = next;
      send({ type: 'modelSet', id: msg.id, numTensors: tf.memory().numTensors });
      return;
    }
    case 'encode': {
      if (model === undefined) throw new JourneylensError(ErrorCodes.INTERNAL, 'encode before init');
      const t0 = performance.now();
      const embeddings = model.encodeImages(msg.images, msg.n);
      send(
        { type: 'encoded', id: msg.id, embeddings, ms: performance.now() - t0, numTensors: tf.memory().numTensors },
        [embeddings.buffer as ArrayBuffer],
      );
      return;
    }
    case 'stats': {
      const mem = tf.memory();
      send({ type: 'stats', id: msg.id, numTensors: mem.numTensors, numBytes: mem.numBytes });
      return;
    }
  }
}

port.on('message', (msg: ToWorker) => {
  handle(msg).catch((err: unknown) => {
    send({ type: 'error', id: 'id' in msg ? msg.id : null, message: err instanceof Error ? err.message : String(err) });
  });
});
