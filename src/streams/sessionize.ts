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
  /** Clock for idle partitions (default asyncScheduler, whose clock is the wall clock; a TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /**
   * A partition with no event for this long (processing time) is idle: each of its open sessions
   * closes (reason 'idle', at its own deadline) once the clock minus the allowed lateness passes
   * that deadline. The watermark does not move, so later events are not judged late. Off when
   * undefined.
   */
  idleTimeoutMs?: number;
  /**
   * False while a silence is not idleness (e.g. the consumer paused the partitions for
   * backpressure): the idle clock then starts again (default: always true).
   */
  idleAllowed?: () => boolean;
  /** On completion, close all open sessions with reason 'shutdown' (default true). */
  closeOnComplete?: boolean;
  /** Shared watermarks (e.g. to read them for metrics); created from the store's spec when omitted. */
  watermarks?: PartitionWatermarks;
}

const idleRule = gotValue('must be at least 1 ms (or left out to keep the sessions of a quiet partition open)');
const sessionizeSchema = z.object({
  idleTimeoutMs: z.number({ error: idleRule }).min(1, { error: idleRule }).optional(),
});

/** How often idle partitions are looked for: often enough that a close is at most a second late. */
function idleCheckEveryMs(idleTimeoutMs: number): number {
  return Math.max(1, Math.min(1000, Math.floor(idleTimeoutMs / 2)));
}

/**
 * Sessionizes click envelopes by event time. Emits `changed` for every accepted event (the
 * micro-batcher coalesces them), `close` when a session ends, `late` and `duplicate` for events
 * that are not added. A session's own events split it by the gap (session-store.ts); the
 * watermark of the event's partition closes sessions whose deadline it passed, so partitions
 * never close each other's sessions.
 *
 * @example
 * const store = new SessionStore(defaultImageSpec, defaultSessionizationSpec);
 * envelopes$.pipe(sessionize({ store, idleTimeoutMs: 300_000 }), microBatch({ store, tickMs: 250, maxBatch: 256 }))
 */
export function sessionize(options: SessionizeOptions): OperatorFunction<ClickEnvelope, SessionEvent> {
  const { store } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const closeOnComplete = options.closeOnComplete ?? true;
  const { idleTimeoutMs } = parseOptions(sessionizeSchema, { idleTimeoutMs: options.idleTimeoutMs }, componentOptions('sessionize'));
  return (source: Observable<ClickEnvelope>) =>
    new Obs<SessionEvent>((subscriber) => {
      const watermarks = options.watermarks ?? new PartitionWatermarks({ allowedLatenessMs: store.session.allowedLatenessMs });
      const closed: ClosedSession[] = [];
      const quiet: QuietSession[] = [];
      // Quiet re-scores and closes are emitted while the record that moved the watermark is
      // handed in (the processor ties their outputs to that record's offset); then the held
      // sessions those closes let go.
      const emitClosed = (): void => {
        for (const q of quiet) subscriber.next(asQuiet(q.view, q.asOf));
        quiet.length = 0;
        for (const c of closed) subscriber.next(asClose(c.view, c.reason, c.at));
        closed.length = 0;
        const released = store.takeReleased();
        for (let i = 0; i < released.length; i += 2) subscriber.next({ kind: 'changed', slot: released[i]!, generation: released[i + 1]!, released: true });
      };
      // the newest event time seen: the event time of a close on completion
      let newest = Number.NEGATIVE_INFINITY;
      let idleTimer: Subscription | undefined;
      if (idleTimeoutMs !== undefined) {
        idleTimer = interval(idleCheckEveryMs(idleTimeoutMs), scheduler).subscribe(() => {
          const now = scheduler.now();
          if (options.idleAllowed && !options.idleAllowed()) {
            watermarks.touchAll(now);
            return;
          }
          // the wall clock stands in for the watermark, as it would were traffic still flowing
          const wallMark = now - store.session.allowedLatenessMs;
          for (const p of store.partitions()) {
            if (watermarks.idleFor(p, now) >= idleTimeoutMs) store.closeExpired(p, wallMark, closed, quiet, true);
          }
          emitClosed();
        });
      }
      const sub = source.subscribe({
        next(envelope) {
          const { event, partition, offset } = envelope;
          const now = scheduler.now();
          const before = watermarks.get(partition);
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
            const slot = store.lastSlot;
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
