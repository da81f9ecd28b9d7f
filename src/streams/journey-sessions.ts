// The sessionizer as one operator: sessionize → micro-batch, sharing one SessionStore that the
// consumer also reads (low-watermark offsets to commit, partitions to drop on revoke).
import { type Observable, type OperatorFunction, type SchedulerLike, pipe } from 'rxjs';
import { type SessionStore } from './session-store.ts';
import { type PartitionWatermarks } from './watermark.ts';
import { type ClickEnvelope, type SessionOutcome } from './outcomes.ts';
import { microBatch } from './micro-batch.ts';
import { sessionize } from './sessionize.ts';

export interface JourneySessionsOptions {
  store: SessionStore;
  tickMs?: number;
  maxBatch?: number;
  /** See SessionizeOptions.idleTimeoutMs. */
  idleTimeoutMs?: number;
  /** See SessionizeOptions.idleAllowed. */
  idleAllowed?: () => boolean;
  closeOnComplete?: boolean;
  scheduler?: SchedulerLike;
  /** Shared watermarks, so the caller can reset a partition it lost in a rebalance. */
  watermarks?: PartitionWatermarks;
  /** Emits the micro-batcher's pending updates at once each time it notifies (see microBatch). */
  flush?: Observable<unknown>;
}

/**
 * @example
 * const store = new SessionStore(bundle.imageSpec, config.sessionization);
 * envelopes$.pipe(journeySessions({ store, tickMs: 250, maxBatch: 256 })).subscribe(route);
 * // on commit: store.lowWatermark(partition) ?? nextOffset
 */
export function journeySessions(options: JourneySessionsOptions): OperatorFunction<ClickEnvelope, SessionOutcome> {
  const { store, scheduler } = options;
  return pipe(
    sessionize({
      store,
      scheduler,
      idleTimeoutMs: options.idleTimeoutMs,
      closeOnComplete: options.closeOnComplete,
      ...(options.idleAllowed ? { idleAllowed: options.idleAllowed } : {}),
      ...(options.watermarks ? { watermarks: options.watermarks } : {}),
    }),
    microBatch({ store, scheduler, tickMs: options.tickMs, maxBatch: options.maxBatch, ...(options.flush ? { flush: options.flush } : {}) }),
  );
}
