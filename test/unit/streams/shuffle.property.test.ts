// Property: events that arrive out of order, but within the allowed lateness, produce exactly
// the same sessions and images as the same events in event-time order, the gap splitting
// sessions the same way.
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

interface Gen {
  ev: ClickEvent;
  partition: number;
  delay: number;
}

const eventShape = fc.record({
  // mostly within the gap; some pauses split the session, some of them just past the gap (where
  // an out-of-order event can still bridge the two parts)
  dt: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: session.gapMs }), weight: 4 },
    { arbitrary: fc.integer({ min: session.gapMs + 1, max: session.gapMs + session.allowedLatenessMs }), weight: 1 },
    { arbitrary: fc.integer({ min: session.gapMs + 1, max: 3 * session.gapMs }), weight: 1 },
  ),
  type: fc.constantFrom('a', 'b', 'c', 'unknown'),
  page: fc.option(fc.constantFrom('/', '/cart', '/help', '/p/1'), { nil: null }),
  durationMs: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
  value: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  delay: fc.integer({ min: 0, max: session.allowedLatenessMs }),
  duplicate: fc.option(fc.integer({ min: 0, max: session.allowedLatenessMs }), { freq: 8, nil: undefined }),
});

const sessionShape = fc.record({
  start: fc.integer({ min: 0, max: 2000 }),
  partition: fc.integer({ min: 0, max: 1 }),
  // a user's sessions without a sessionId are split by the gap; the next one starts after a pause
  byUser: fc.boolean(),
  pause: fc.integer({ min: session.gapMs + 1, max: 3 * session.gapMs }),
  events: fc.array(eventShape, { minLength: 1, maxLength: 9 }),
});

type SessionShape = typeof sessionShape extends fc.Arbitrary<infer T> ? T : never;

function build(sessions: SessionShape[]): { gens: Gen[]; expectedSessions: number } {
  const gens: Gen[] = [];
  let id = 0;
  // the gap splits a generated session wherever its events pause for longer
  const expectedSessions = sessions.reduce((n, s) => n + 1 + s.events.filter((e, i) => i > 0 && e.dt > session.gapMs).length, 0);
  let userClock = 0; // all by-user sessions belong to one user and follow each other
  sessions.forEach((s, si) => {
    let t = s.byUser ? userClock : s.start;
    const partition = s.byUser ? 0 : s.partition;
    s.events.forEach((e, ei) => {
      if (ei > 0) t += e.dt;
      const ev: ClickEvent = {
        eventId: `e${id++}`,
        sessionId: s.byUser ? '' : `s${si}`,
        userId: 'u1',
        timestamp: t,
        type: e.type,
        page: e.page,
        durationMs: e.durationMs,
        value: e.value,
        properties: {},
      };
      gens.push({ ev, partition, delay: e.delay });
      if (e.duplicate !== undefined) gens.push({ ev, partition, delay: e.duplicate });
    });
    if (s.byUser) userClock = t + s.pause;
  });
  return { gens, expectedSessions };
}

function images(arrivals: Gen[], image: ImageSpec): Map<string, number[]> {
  const store = new SessionStore(image, session);
  const envelopes: ClickEnvelope[] = arrivals.map((g, i) => ({ event: g.ev, partition: g.partition, offset: BigInt(i) }));
  const out = new Map<string, number[]>();
  from(envelopes)
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind !== 'close') return;
      const who = o.sessionId.startsWith('u:') ? `user ${o.userId}` : o.sessionId;
      out.set(`${who} from ${o.sessionStart}`, Array.from(o.rasterize()));
    });
  return out;
}

function byArrival(gens: Gen[], withDelay: boolean): Gen[] {
  return gens
    .map((g, i) => ({ g, i, at: g.ev.timestamp + (withDelay ? g.delay : 0) }))
    .sort((x, y) => x.at - y.at || x.i - y.i)
    .map((x) => x.g);
}

describe('shuffling within the allowed lateness', () => {
  for (const rowMode of ['steps', 'buckets'] as const) {
    it(`yields the same sessions and images as the ordered stream (${rowMode} mode)`, () => {
      const image: ImageSpec = { ...tinyImage, rowMode, bucketMs: 37 };
      fc.assert(
        fc.property(fc.array(sessionShape, { minLength: 1, maxLength: 6 }), (sessions) => {
          const { gens, expectedSessions } = build(sessions);
          const ordered = images(byArrival(gens, false), image);
          const shuffled = images(byArrival(gens, true), image);
          expect(ordered.size).toBe(expectedSessions);
          expect(shuffled).toEqual(ordered);
        }),
        { numRuns: 300 },
      );
    });
  }
});
