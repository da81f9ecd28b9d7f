// The inactivity gap splits a session by its own events, whatever else its partition carries.
import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type ImageSpec, type SessionizationSpec, defaultImageSpec, defaultSessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type SessionClose } from '../../../src/journey/session-view.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { type ClickEnvelope, type SessionEvent, type SessionOutcome } from '../../../src/streams/outcomes.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { click, env, tinyImage, tinySession } from './events.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 8);

/** Runs envelopes through the sessionizer (closing what is open at the end) and returns every close. */
function closesOf(envelopes: ClickEnvelope[], image: ImageSpec = defaultImageSpec, session: SessionizationSpec = defaultSessionizationSpec): SessionClose[] {
  const store = new SessionStore(image, session);
  const closes: SessionClose[] = [];
  from(envelopes)
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind === 'close') closes.push(o);
    });
  return closes;
}

const summary = (c: SessionClose) => ({ id: c.sessionId, events: c.eventCount, start: c.sessionStart, windowStart: c.windowStart, windowEnd: c.windowEnd, reason: c.reason, asOf: c.asOf });

// one session's events at 0, 1, 120, 121 and 600 minutes (the case of issue 17)
const userSession = [0, 1, 120, 121, 600].map((m, i) => click(`s1-${i}`, 's1', T0 + m * MIN, { type: 'product_view' }));

// other sessions on the same partition: one event a minute from 0 to 700 min, 10-minute sessions
const traffic = Array.from({ length: 701 }, (_, m) => click(`c-${m}`, `c${Math.floor(m / 10)}`, T0 + m * MIN + 30_000));

function inEventTimeOrder(events: ClickEvent[]): ClickEvent[] {
  return [...events].sort((a, b) => a.timestamp - b.timestamp);
}

describe('the gap splits a session by its own events', () => {
  for (const rowMode of ['steps', 'buckets'] as const) {
    const image: ImageSpec = { ...defaultImageSpec, rowMode };
    const expected = [
      { id: 's1', events: 2, start: T0, reason: 'gap', asOf: T0 + 31 * MIN },
      { id: 's1', events: 2, start: T0 + 120 * MIN, reason: 'gap', asOf: T0 + 151 * MIN },
      { id: 's1', events: 1, start: T0 + 600 * MIN, reason: 'shutdown', asOf: T0 + 600 * MIN },
    ];

    it(`0/1/120/121/600 minutes give three sessions on a quiet partition (${rowMode} mode)`, () => {
      const closes = closesOf(userSession.map((e, i) => env(e, 0, i)), image).map(summary);
      expect(closes.map(({ id, events, start, reason, asOf }) => ({ id, events, start, reason, asOf }))).toEqual(expected);
    });

    it(`0/1/120/121/600 minutes give the same three sessions on a busy partition (${rowMode} mode)`, () => {
      // an event long after the rest closes what is open by the gap in both runs
      const closer = click('closer', 'closer', T0 + 2000 * MIN);
      const quiet = closesOf([...userSession, closer].map((e, i) => env(e, 0, i)), image)
        .filter((c) => c.sessionId === 's1')
        .map(summary);
      const busy = closesOf(inEventTimeOrder([...userSession, ...traffic, closer]).map((e, i) => env(e, 0, i)), image)
        .filter((c) => c.sessionId === 's1')
        .map(summary);
      expect(quiet.map((c) => [c.events, c.start, c.reason])).toEqual([
        [2, T0, 'gap'],
        [2, T0 + 120 * MIN, 'gap'],
        [1, T0 + 600 * MIN, 'gap'],
      ]);
      expect(busy).toEqual(quiet);
    });
  }

  it('closes the earlier session (its final signal) before the later one emits anything', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      // gap 30, lateness 5: e2 comes 33 after e1, so the watermark (28) has not passed 0 + 30 yet
      // and an event in between could still bridge the two; the later session waits
      const out = h
        .cold('a 9ms b 9ms c 9ms |', { a: env(click('e1', 's1', 0)), b: env(click('e2', 's1', 33)), c: env(click('e3', 'other', 37)) })
        .pipe(
          journeySessions({ store, scheduler: ts, tickMs: 5, maxBatch: 100 }),
          map((o: SessionOutcome) => (o.kind === 'update' ? `update:${o.sessionId}:${o.windowStart}` : o.kind === 'close' ? `close:${o.sessionId}:${o.windowStart}:${o.reason}` : o.kind)),
        );
      // ticks every 5 ms. e2 (at 10) brings no update: s1 [33] is held. e3 (at 20) moves the
      // watermark to 32: s1 [0] closes, then s1 [33] is released and updated in the same tick
      h.expectObservable(out).toBe('-----a 14ms (bdc) 5ms (ef|)', {
        a: 'update:s1:0',
        b: 'close:s1:0:gap',
        d: 'update:other:37',
        c: 'update:s1:33',
        e: 'close:s1:33:shutdown',
        f: 'close:other:37:shutdown',
      });
    });
  });

  it('merges a held session into the earlier one when an out-of-order event bridges them; the held one never emits', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const out = h
        .cold('a 9ms b 9ms c 9ms |', { a: env(click('e1', 's1', 0)), b: env(click('e2', 's1', 33)), c: env(click('e3', 's1', 29)) })
        .pipe(
          journeySessions({ store, scheduler: ts, tickMs: 5, maxBatch: 100 }),
          map((o: SessionOutcome) => (o.kind === 'update' || o.kind === 'close' ? `${o.kind}:${o.sessionId}:${o.eventCount}:${o.windowStart}-${o.windowEnd}` : o.kind)),
        );
      h.expectObservable(out).toBe('-----a 14ms b 9ms (c|)', { a: 'update:s1:1:0-0', b: 'update:s1:3:0-33', c: 'close:s1:3:0-33' });
    });
  });

  it('gives the same sessions when a session’s own events arrive out of order within the lateness', () => {
    const spec = { gapMs: 30 * MIN, maxSessionMs: 24 * 60 * MIN, allowedLatenessMs: 2 * MIN };
    const times = [0, 20, 49, 51, 90, 200];
    const events = times.map((m, i) => click(`e${i}`, 's1', T0 + m * MIN));
    const ordered = closesOf(events.map((e, i) => env(e, 0, i)), defaultImageSpec, spec).map(summary);
    // 51 arrives before 49: it is 31 min after 20, so it opens a (held) session of its own, which
    // 49, within the lateness, bridges back to the first
    const shuffled = closesOf([0, 1, 3, 2, 4, 5].map((k, i) => env(events[k]!, 0, i)), defaultImageSpec, spec).map(summary);
    expect(ordered.map((c) => [c.events, c.start])).toEqual([
      [4, T0],
      [1, T0 + 90 * MIN],
      [1, T0 + 200 * MIN],
    ]);
    expect(shuffled).toEqual(ordered);
  });

  it('opens a separate earlier session for an event more than a gap before its open session when the watermark allows, else routes it to late', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run((h) => {
      const store = new SessionStore(tinyImage, { gapMs: 30, maxSessionMs: 1000, allowedLatenessMs: 20 });
      const label = (e: SessionEvent): string =>
        e.kind === 'changed' ? `+${store.view(e.slot).sessionStart}` : e.kind === 'close' ? `close:${e.sessionStart}:${e.eventCount}` : e.kind === 'late' ? `late:${e.envelope.event.eventId}` : e.kind;
      const out = h
        .cold('abc|', {
          a: env(click('e1', 's1', 100)), // watermark 80
          b: env(click('e2', 's1', 55)), // 45 before s1's first event, but not behind 80 − 30: a session of its own
          c: env(click('e3', 's1', 20)), // more than a gap before both, and 20 + 30 < 80: its session would already be closed
        })
        .pipe(sessionize({ store, scheduler: ts }), map(label));
      h.expectObservable(out).toBe('abc(xy|)', { a: '+100', b: '+55', c: 'late:e3', x: 'close:55:1', y: 'close:100:1' });
    });
  });
});

describe('session key', () => {
  it('by session: one session per sessionId, split by the gap', () => {
    const events = [click('e1', 'tab-1', T0, { userId: 'ann' }), click('e2', 'tab-2', T0 + 5 * MIN, { userId: 'ann' }), click('e3', 'tab-2', T0 + 50 * MIN, { userId: 'ann' })];
    expect(closesOf(events.map((e, i) => env(e, 0, i))).map((c) => [c.sessionId, c.eventCount, c.sessionStart])).toEqual([
      ['tab-1', 1, T0],
      ['tab-2', 1, T0 + 5 * MIN],
      ['tab-2', 1, T0 + 50 * MIN],
    ]);
  });

  it('by user (events without a sessionId, as ingestion.sessionKey userId gives them): a user’s events split by the gap', () => {
    // (bob's event comes before ann's at 50 min: after it, the watermark would make bob's late)
    const events = [click('e1', '', T0, { userId: 'ann' }), click('e2', '', T0 + 5 * MIN, { userId: 'ann' }), click('e4', '', T0 + 6 * MIN, { userId: 'bob' }), click('e3', '', T0 + 50 * MIN, { userId: 'ann' })];
    expect(closesOf(events.map((e, i) => env(e, 0, i))).map((c) => [c.sessionId, c.eventCount, c.userId])).toEqual([
      [`u:ann:${T0}`, 2, 'ann'],
      [`u:bob:${T0 + 6 * MIN}`, 1, 'bob'],
      [`u:ann:${T0 + 50 * MIN}`, 1, 'ann'],
    ]);
  });

  it('refuses a cap below 1, naming the option', () => {
    expect(() => new SessionStore(tinyImage, tinySession, { maxSessions: 0 })).toThrow('session store: maxSessions must be a positive integer (or left out for no cap), got 0');
  });
});
