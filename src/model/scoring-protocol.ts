// Messages between ScoringPool (main thread) and scoring-worker (one model per worker thread).
// Batches go both ways as typed arrays that are transferred, not copied or cloned per object.
import { type RiskSetting } from '../contracts/risk.ts';
import { type ImageSpec } from '../journey/image-spec.ts';
import { type BackendName } from './backend.ts';
import { type ScoredBatch, type StageTimes } from './scoring-core.ts';
import { type PackedViews } from './view-batch.ts';

/** What a worker passes to loadBundle (everything structured-clone friendly). */
export interface WorkerLoadOptions {
  expectSpec?: ImageSpec;
  risk?: RiskSetting;
  neighbourEf?: number;
  maxBatch?: number;
}

export type ToScoringWorker =
  | { type: 'init'; dir: string; load: WorkerLoadOptions }
  | { type: 'score'; id: number; views: PackedViews; detailed: boolean };

export type FromScoringWorker =
  | { type: 'ready'; modelVersion: string; backend: BackendName; numTensors: number }
  | { type: 'scored'; id: number; batch: ScoredBatch; times: StageTimes; numTensors: number }
  | { type: 'error'; id: number | null; message: string };
