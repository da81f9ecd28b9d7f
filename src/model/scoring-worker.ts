// Worker-thread entry: loads a bundle (verified again here, inline: its own TF.js engine, HNSW
// indexes and readout) and scores the batches it is sent, whole: rasterize → encode → nearest
// centroid → neighbours → readout. Running here keeps all model time off the main event loop,
// which does Kafka I/O, ingestion and the session store.
import { parentPort } from 'node:worker_threads';
import { liveTensorCount } from './backend.ts';
import { loadBundle } from './bundle.ts';
import { type ScoringCore, noStageTimes, scoredBuffers } from './scoring-core.ts';
import { type FromScoringWorker, type ToScoringWorker } from './scoring-protocol.ts';
import { packedInput } from './view-batch.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

const port = parentPort;
if (port === null) throw new JourneylensError(ErrorCodes.INTERNAL, 'scoring-worker.ts must run as a worker thread');

let core: ScoringCore | undefined;

function send(msg: FromScoringWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function handle(msg: ToScoringWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      const bundle = await loadBundle(msg.dir, { ...msg.load, encoder: 'inline' });
      core = bundle.scorer.inlineCore();
      send({ type: 'ready', modelVersion: bundle.modelVersion, backend: bundle.backend, numTensors: liveTensorCount() });
      return;
    }
    case 'score': {
      if (core === undefined) throw new JourneylensError(ErrorCodes.INTERNAL, 'score before init');
      const times = noStageTimes();
      const batch = await core.score(packedInput(msg.views, core.spec), { detailed: msg.detailed, times });
      send({ type: 'scored', id: msg.id, batch, times, numTensors: liveTensorCount() }, scoredBuffers(batch));
      return;
    }
  }
}

port.on('message', (msg: ToScoringWorker) => {
  handle(msg).catch((err: unknown) => {
    send({ type: 'error', id: 'id' in msg ? msg.id : null, message: err instanceof Error ? err.message : String(err) });
  });
});
