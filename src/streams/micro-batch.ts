// Stage 2: coalesces session changes into one update per session per tick, so a burst of
// events costs one re-encode. A tick is emitted every `tickMs` (scheduler time) or as soon as
// `maxBatch` distinct sessions are pending, whichever comes first. Closes, late and duplicate
// events pass straight through; a close supersedes a pending update of the same session, and
// so does a quiet re-score (it is taken later and holds the same events). A caller that cuts
// its own ticks (the processor: as soon as its scoring pipeline has room) passes `flush`: each
// notification emits the pending updates at once, synchronously.
import { type Observable, type OperatorFunction, type SchedulerLike, Observable as Obs, asyncScheduler, interval } from 'rxjs';
import { z } from 'zod';
import { componentOptions, gotValue, parseOptions } from '../options.ts';
import { type SessionStore } from './session-store.ts';
import { type SessionEvent, type SessionOutcome } from './outcomes.ts';
import { asUpdate } from '../journey/session-view.ts';

export interface MicroBatchOptions {
  store: SessionStore;
  /** Tick period in ms (default 250). */
  tickMs?: number;
  /** Most sessions per tick (default 256): a full batch is emitted at once. */
  maxBatch?: number;
  scheduler?: SchedulerLike;
  /** Emits the pending updates now (synchronously) each time it notifies; the timer stays as the upper bound. */
  flush?: Observable<unknown>;
}

const tickRule = gotValue('must be a positive number of ms');
const batchRule = gotValue('must be a positive integer');
const microBatchSchema = z.object({
  tickMs: z.number({ error: tickRule }).positive({ error: tickRule }),
  maxBatch: z.number({ error: batchRule }).int({ error: batchRule }).min(1, { error: batchRule }),
});

/**
 * @example
 * envelopes$.pipe(sessionize({ store }), microBatch({ store, tickMs: 100, maxBatch: 64 }))
 *   .subscribe((o) => { if (o.kind === 'update') o.rasterize(batchBuffer.subarray(...)); });
 */
export function microBatch(options: MicroBatchOptions): OperatorFunction<SessionEvent, SessionOutcome> {
  const { store } = options;
  const { tickMs, maxBatch } = parseOptions(microBatchSchema, { tickMs: options.tickMs ?? 250, maxBatch: options.maxBatch ?? 256 }, componentOptions('microBatch'));
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source: Observable<SessionEvent>) =>
    new Obs<SessionOutcome>((subscriber) => {
      let slots: number[] = [];
      let generations: number[] = [];
      let tick = 0;
      const flush = (): void => {
        if (slots.length === 0) return;
        const s = slots;
        const g = generations;
        slots = [];
        generations = [];
        tick++;
        for (let i = 0; i < s.length; i++) {
          const slot = s[i]!;
          // a session closed (and maybe its slot reused) since it changed: its close was already
          // emitted; not dirty any more: a quiet re-score since then already carried the change
          if (!store.isOpen(slot, g[i]!) || !store.isDirty(slot)) continue;
          store.clearDirty(slot);
          subscriber.next(asUpdate(store.view(slot), tick));
        }
      };
      const timer = interval(tickMs, scheduler).subscribe(flush);
      const flushes = options.flush?.subscribe(flush);
      const sub = source.subscribe({
        next(e) {
          if (e.kind !== 'changed') {
            subscriber.next(e);
            return;
          }
          if (!store.markDirty(e.slot)) return;
          slots.push(e.slot);
          generations.push(e.generation);
          if (slots.length >= maxBatch) flush();
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        timer.unsubscribe();
        flushes?.unsubscribe();
      };
    });
}
