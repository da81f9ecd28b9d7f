// Property: a session's sessions (ids, event counts, windows, final images, close times) depend
// on its own events only: not on the other sessions' traffic on its partition, not on how the
// topic is partitioned, not on how partitions interleave. Every stream here is on time (each
// partition delivers its events in event-time order, each up to allowedLatenessMs late), as
// the guarantee requires; the session under test splits by the gap, its own events arrive out of
// order within the lateness, and some of them are duplicates.
import fc from 'fast-check';
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type ImageSpec, type SessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type ClickEnvelope } from '../../../src/streams/outcomes.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { tinyImage } from './events.ts';

const session: SessionizationSpec = { gapMs: 100, maxSessionMs: 1_000_000, allowedLatenessMs: 40 };

interface Timed {
  ev: ClickEvent;
  /** Arrival delay within its partition, at most the allowed lateness. */
  delay: number;
}

const step = fc.record({
  // pauses up to 3 gaps: the session under test splits, and some pauses sit just past the gap
  dt: fc.oneof(fc.integer({ min: 0, max: session.gapMs }), fc.integer({ min: session.gapMs + 1, max: session.gapMs + session.allowedLatenessMs }), fc.integer({ min: 0, max: 3 * session.gapMs })),
  type: fc.constantFrom('a', 'b', 'c', 'unknown'),
  page: fc.option(fc.constantFrom('/', '/cart', '/help'), { nil: null }),
  durationMs: fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: null }),
  delay: fc.integer({ min: 0, max: session.allowedLatenessMs }),
  duplicate: fc.option(fc.integer({ min: 0, max: session.allowedLatenessMs }), { freq: 6, nil: undefined }),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function events(prefix: string, sessionId: string, userId: string | null, start: number, steps: Step[]): Timed[] {
  const out: Timed[] = [];
  let t = start;
  steps.forEach((s, i) => {
    if (i > 0) t += s.dt;
    const ev: ClickEvent = { eventId: `${prefix}${i}`, sessionId, userId, timestamp: t, type: s.type, page: s.page, durationMs: s.durationMs, value: null, properties: {} };
    out.push({ ev, delay: s.delay });
    if (s.duplicate !== undefined) out.push({ ev, delay: s.duplicate });
  });
  return out;
}

const others = fc.array(
  fc.record({ start: fc.integer({ min: -200, max: 2500 }), partition: fc.nat(), byUser: fc.boolean(), steps: fc.array(step, { minLength: 1, maxLength: 8 }) }),
  { maxLength: 12 },
);

/** Co-tenant traffic, a partitioning of it, and an interleaving of the partitions. */
const world = fc.record({ partitions: fc.integer({ min: 1, max: 4 }), sutPartition: fc.nat(), others, interleave: fc.array(fc.nat(), { minLength: 0, maxLength: 400 }) });

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

// each partition delivers in event-time order + delay; partitions interleave as `interleave` picks
function arrange(sut: Timed[], w: World): ClickEnvelope[] {
  const parts: Timed[][] = Array.from({ length: w.partitions }, () => []);
  parts[w.sutPartition % w.partitions]!.push(...sut);
  w.others.forEach((o, k) => {
    const evs = events(`o${k}-`, o.byUser ? '' : `other-${k}`, `user-${k}`, o.start, o.steps);
    parts[o.partition % w.partitions]!.push(...evs);
  });
  const queues = parts.map((p) =>
    p
      .map((x, i) => ({ x, i, at: x.ev.timestamp + x.delay }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map((y) => y.x),
  );
  // a last event far ahead on every partition closes what is open by the gap
  const end = Math.max(0, ...parts.flat().map((x) => x.ev.timestamp)) + 10 * session.gapMs;
  queues.forEach((q, p) => q.push({ ev: { eventId: `end-${p}`, sessionId: `end-${p}`, userId: null, timestamp: end, type: 'a', page: null, durationMs: null, value: null, properties: {} }, delay: 0 }));
  const out: ClickEnvelope[] = [];
  const offsets = queues.map(() => 0);
  const take = (p: number): void => {
    out.push({ event: queues[p]!.shift()!.ev, partition: p, offset: BigInt(offsets[p]!++) });
  };
  for (const n of w.interleave) {
    const p = n % queues.length;
    if (queues[p]!.length > 0) take(p);
  }
  for (let left = true; left; ) {
    left = false;
    for (let p = 0; p < queues.length; p++) {
      if (queues[p]!.length > 0) {
        take(p);
        left = true;
      }
    }
  }
  return out;
}

function sessionsOf(envelopes: ClickEnvelope[], image: ImageSpec, isSut: (id: string) => boolean) {
  const store = new SessionStore(image, session);
  const out: unknown[] = [];
  from(envelopes)
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind !== 'close' || !isSut(o.sessionId)) return;
      out.push({ id: o.sessionId, events: o.eventCount, start: o.sessionStart, windowStart: o.windowStart, windowEnd: o.windowEnd, lastEventId: o.lastEventId, reason: o.reason, closedAt: o.asOf, image: Array.from(o.rasterize()) });
    });
  return out;
}

describe('a session’s sessions do not depend on other traffic or on partitioning', () => {
  for (const rowMode of ['steps', 'buckets'] as const) {
    for (const key of ['sessionId', 'user'] as const) {
      it(`same ids, counts, windows and finals under any co-tenant traffic and partitioning (${rowMode} mode, keyed by ${key})`, () => {
        const image: ImageSpec = { ...tinyImage, rowMode, bucketMs: 37 };
        const sutId = key === 'sessionId' ? 'sut' : '';
        const isSut = (id: string): boolean => id === 'sut' || id.startsWith('u:sut-user:');
        fc.assert(
          fc.property(fc.array(step, { minLength: 1, maxLength: 14 }), world, world, (steps, w1, w2) => {
            const sut = events('sut-', sutId, 'sut-user', 0, steps);
            const alone = sessionsOf(arrange(sut, { partitions: 1, sutPartition: 0, others: [], interleave: [] }), image, isSut);
            expect(alone.length).toBeGreaterThan(0);
            expect(sessionsOf(arrange(sut, w1), image, isSut)).toEqual(alone);
            expect(sessionsOf(arrange(sut, w2), image, isSut)).toEqual(alone);
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});
