// Stage 1: events → session changes, closes, late and duplicate events. Per-session state
// lives in a SessionStore (flat typed arrays), not in one observable per session.
import { type Observable, type OperatorFunction, type SchedulerLike, type Subscription, Observable as Obs, asyncScheduler, interval } from 'rxjs';
import { z } from 'zod';
import { componentOptions, gotValue, parseOptions } from '../options.ts';
import { type ClosedSession, type QuietSession, type SessionStore } from './session-store.ts';
import { type ClickEnvelope, type SessionEvent } from './outcomes.ts';
import { asClose, asQuiet } from '../journey/session-view.ts';
import { PartitionWatermarks } from './watermark.ts';

export interface SessionizeOptions {
  store: SessionStore;
  /** Clock for idle-partition handling (default asyncScheduler; a TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /** Idle partitions' watermarks follow processing time after this long without events; off by default. */
  idleTimeoutMs?: number;
  /** On completion, close all open sessions with reason 'shutdown' (default true). */
  closeOnComplete?: boolean;
  /** Shared watermarks (e.g. to read them for metrics); created from the store's spec when omitted. */
  watermarks?: PartitionWatermarks;
}

const idleRule = gotValue("must be at least 1 ms (or left out to keep idle partitions' watermarks still)");
const sessionizeSchema = z.object({
  idleTimeoutMs: z.number({ error: idleRule }).min(1, { error: idleRule }).optional(),
});

/**
 * Sessionizes click envelopes by event time. Emits `changed` for every accepted event (the
 * micro-batcher coalesces them), `close` when a session ends, `late` and `duplicate` for events
 * that are not added. Closing happens when the event's partition watermark passes a session's
 * deadline, so partitions never close each other's sessions.
 *
 * @example
 * const store = new SessionStore(defaultImageSpec, defaultSessionizationSpec);
 * envelopes$.pipe(sessionize({ store }), microBatch({ store, tickMs: 250, maxBatch: 256 }))
 */
export function sessionize(options: SessionizeOptions): OperatorFunction<ClickEnvelope, SessionEvent> {
  const { store } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const closeOnComplete = options.closeOnComplete ?? true;
  parseOptions(sessionizeSchema, { idleTimeoutMs: options.idleTimeoutMs }, componentOptions('sessionize'));
  return (source: Observable<ClickEnvelope>) =>
    new Obs<SessionEvent>((subscriber) => {
      const watermarks =
        options.watermarks ?? new PartitionWatermarks({ allowedLatenessMs: store.session.allowedLatenessMs, idleTimeoutMs: options.idleTimeoutMs });
      const closed: ClosedSession[] = [];
      const quiet: QuietSession[] = [];
      // Quiet re-scores and closes are emitted while the record that moved the watermark is
      // handed in (the processor ties their outputs to that record's offset).
      const emitClosed = (): void => {
        for (const q of quiet) subscriber.next(asQuiet(q.view, q.asOf));
        quiet.length = 0;
        for (const c of closed) subscriber.next(asClose(c.view, c.reason, c.at));
        closed.length = 0;
      };
      // the newest event time seen: the event time of a close on completion
      let newest = Number.NEGATIVE_INFINITY;
      let idleTimer: Subscription | undefined;
      if (options.idleTimeoutMs !== undefined) {
        idleTimer = interval(Math.max(1, Math.floor(options.idleTimeoutMs / 2)), scheduler).subscribe(() => {
          const now = scheduler.now();
          for (const p of watermarks.partitions()) store.closeExpired(p, watermarks.get(p, now), closed, quiet);
          emitClosed();
        });
      }
      const sub = source.subscribe({
        next(envelope) {
          const { event, partition, offset } = envelope;
          const now = scheduler.now();
          const before = watermarks.get(partition, now);
          if (!Number.isFinite(event.timestamp)) {
            subscriber.next({ kind: 'late', envelope, reason: 'invalidTimestamp', watermark: before });
            return;
          }
          let result;
          try {
            result = store.offer(event, partition, offset, before, closed);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          emitClosed();
          if (result === 'late') {
            subscriber.next({ kind: 'late', envelope, reason: 'closed', watermark: before });
          } else if (result === 'duplicate') {
            subscriber.next({ kind: 'duplicate', envelope });
          } else {
            const slot = store.slotOf(event)!;
            subscriber.next({ kind: 'changed', slot, generation: store.generation(slot) });
          }
          if (event.timestamp > newest) newest = event.timestamp;
          const after = watermarks.observe(partition, event.timestamp, now);
          if (after > before) {
            store.closeExpired(partition, after, closed, quiet);
            emitClosed();
          }
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          if (closeOnComplete) {
            store.closeAll('shutdown', closed, newest);
            emitClosed();
          }
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        idleTimer?.unsubscribe();
      };
    });
}
