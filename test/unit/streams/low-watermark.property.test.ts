// Property: the session store's low watermark (kept per partition as sessions open, take events,
// merge, close, are evicted and dropped) is always what a scan of the partition's open sessions
// gives: the smallest offset any of them holds. Keys share sessions across partitions, offsets
// arrive out of order, sessions merge, the cap evicts, partitions are dropped, and the watermark
// is asked for after some operations only (so several changes land between two reads).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type SessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type ClosedSession, type QuietSession, SessionStore } from '../../../src/streams/session-store.ts';
import { tinyImage } from './events.ts';

const session: SessionizationSpec = { gapMs: 100, maxSessionMs: 400, allowedLatenessMs: 40, quietEveryMs: 60 };
const PARTITIONS = 3;

const op = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('offer' as const),
      key: fc.integer({ min: 0, max: 3 }),
      byUser: fc.boolean(),
      partition: fc.integer({ min: 0, max: PARTITIONS - 1 }),
      // mostly the next offset of the partition; sometimes one from far back or ahead
      jump: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: -50, max: 50 }) }),
      dt: fc.integer({ min: -60, max: 250 }),
      read: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expire' as const), partition: fc.integer({ min: 0, max: PARTITIONS - 1 }), ahead: fc.integer({ min: 0, max: 500 }), read: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), partition: fc.integer({ min: 0, max: PARTITIONS - 1 }), read: fc.boolean() }) },
);

describe('SessionStore.lowWatermark', () => {
  it('equals a scan of the open sessions after any operations', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 12 }), (ops, maxSessions) => {
        const store = new SessionStore(tinyImage, session, { initialCapacity: 4, maxSessions });
        const closed: ClosedSession[] = [];
        const quiet: QuietSession[] = [];
        const next = Array.from({ length: PARTITIONS }, () => 100);
        const watermark = Array.from({ length: PARTITIONS }, () => Number.NEGATIVE_INFINITY);
        let t = 1000;
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'offer') {
            t += o.dt;
            const offset = Math.max(0, next[o.partition]! + o.jump - 1);
            next[o.partition] = Math.max(next[o.partition]!, offset + 1);
            const ev: ClickEvent = { eventId: `e${n++}`, sessionId: o.byUser ? '' : `s${o.key}`, userId: `u${o.key}`, timestamp: t, type: 'a', page: null, durationMs: null, value: null, properties: {} };
            store.offer(ev, o.partition, BigInt(offset), watermark[o.partition]!, closed);
          } else if (o.kind === 'expire') {
            watermark[o.partition] = Math.max(watermark[o.partition]!, t - 200 + o.ahead);
            store.closeExpired(o.partition, watermark[o.partition]!, closed, quiet);
          } else {
            store.dropPartition(o.partition);
            watermark[o.partition] = Number.NEGATIVE_INFINITY;
          }
          if (!o.read) continue;
          for (let p = 0; p < PARTITIONS; p++) expect(store.lowWatermark(p)).toBe(store.scanLowWatermark(p));
        }
        for (let p = 0; p < PARTITIONS; p++) expect(store.lowWatermark(p)).toBe(store.scanLowWatermark(p));
      }),
      { numRuns: 400 },
    );
  });

  it('follows a merge of sessions of one key opened on different partitions', () => {
    const store = new SessionStore(tinyImage, session);
    const closed: ClosedSession[] = [];
    const ev = (ts: number): ClickEvent => ({ eventId: `k-${ts}`, sessionId: 'k', userId: null, timestamp: ts, type: 'a', page: null, durationMs: null, value: null, properties: {} });
    store.offer(ev(0), 0, 7n, Number.NEGATIVE_INFINITY, closed);
    // beyond the gap of the first: a second session of the key, the only one of partition 1
    store.offer(ev(150), 1, 3n, Number.NEGATIVE_INFINITY, closed);
    expect([store.lowWatermark(0), store.lowWatermark(1)]).toEqual([7n, 3n]);
    // within the gap of both: the second folds into the first (a session of partition 0)
    store.offer(ev(75), 1, 4n, Number.NEGATIVE_INFINITY, closed);
    expect([store.lowWatermark(0), store.lowWatermark(1)]).toEqual([3n, undefined]);
    expect([store.scanLowWatermark(0), store.scanLowWatermark(1)]).toEqual([3n, undefined]);
  });

  it('stays at the oldest open session while newer ones open and close, and moves on when it closes', () => {
    const store = new SessionStore(tinyImage, session);
    const closed: ClosedSession[] = [];
    const ev = (id: string, ts: number): ClickEvent => ({ eventId: `${id}-${ts}`, sessionId: id, userId: null, timestamp: ts, type: 'a', page: null, durationMs: null, value: null, properties: {} });
    store.offer(ev('old', 0), 0, 10n, Number.NEGATIVE_INFINITY, closed);
    store.offer(ev('new', 50), 0, 11n, Number.NEGATIVE_INFINITY, closed);
    expect(store.lowWatermark(0)).toBe(10n);
    store.offer(ev('new', 150), 0, 12n, Number.NEGATIVE_INFINITY, closed);
    // 'old' closes by the gap (last event 0 + 100), 'new' stays open
    store.closeExpired(0, 120, closed);
    expect(closed.map((c) => c.view.sessionId)).toEqual(['old']);
    expect(store.lowWatermark(0)).toBe(11n);
    store.closeExpired(0, 1000, closed);
    expect(store.lowWatermark(0)).toBeUndefined();
  });
});
