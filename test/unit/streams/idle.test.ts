// The idle timeout, in virtual time: a partition that received no event for idleTimeoutMs closes
// its open sessions at their own deadlines once the clock (minus the lateness) is past them, and
// its watermark does not move, so a later event is not judged late.
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type SessionEvent } from '../../../src/streams/outcomes.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { click, env, tinyImage, tinySession } from './events.ts';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function label(store: SessionStore) {
  return (e: SessionEvent): string => {
    switch (e.kind) {
      case 'changed':
        return `+${store.view(e.slot).sessionId}@${store.view(e.slot).sessionStart}`;
      case 'close':
        return `close:${e.sessionId}:${e.reason}:${e.eventCount}@${e.asOf}`;
      default:
        return e.kind;
    }
  };
}

// gap 30, lateness 5; idle after 20 ms without an event, looked for every 10 ms
const idleTimeoutMs = 20;
// event times of a replay: long before the (virtual) clock, which starts at 0
const H = -1_000_000;

describe('idle timeout (virtual time)', () => {
  it('closes the last sessions of a replay that stopped within the idle timeout, each at its own deadline', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const out = h
        .cold('abc 99ms |', { a: env(click('e1', 's1', H)), b: env(click('e2', 's1', H + 10)), c: env(click('e3', 's2', H + 12)) })
        .pipe(sessionize({ store, scheduler: ts, idleTimeoutMs }), map(label(store)));
      // no event since frame 2: idle from frame 22, seen at the check at 30
      h.expectObservable(out).toBe('abc 27ms (xy) 68ms |', {
        a: `+s1@${H}`,
        b: `+s1@${H}`,
        c: `+s2@${H + 12}`,
        x: `close:s1:idle:2@${H + 40}`,
        y: `close:s2:idle:1@${H + 42}`,
      });
    });
  });

  it('does not move the watermark: an event after the pause is not late, and starts a new session', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const out = h
        .cold('a 49ms b |', { a: env(click('e1', 's1', H)), b: env(click('e2', 's1', H + 20)) })
        .pipe(sessionize({ store, scheduler: ts, idleTimeoutMs }), map(label(store)));
      // idle from 20 (seen at the check at 20)
      h.expectObservable(out).toBe('a 19ms x 29ms b (y|)', {
        a: `+s1@${H}`,
        x: `close:s1:idle:1@${H + 30}`,
        b: `+s1@${H + 20}`,
        y: `close:s1:shutdown:1@${H + 20}`,
      });
    });
  });

  it('on live traffic (event time ≈ clock) waits until the clock minus the lateness passes the deadline', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      // idle from 20, but 0 + gap 30 + lateness 5 is only behind the clock after 35: closed at the check at 40
      const out = h.cold('a 99ms |', { a: env(click('e1', 's1', 0)) }).pipe(sessionize({ store, scheduler: ts, idleTimeoutMs }), map(label(store)));
      h.expectObservable(out).toBe('a 39ms x 59ms |', { a: '+s1@0', x: 'close:s1:idle:1@30' });
    });
  });

  it('closes only the idle partition’s sessions', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const busy = (i: number) => env(click(`b${i}`, `busy${i}`, H + i), 1);
      const out = h
        .cold('a 9ms b 9ms c 9ms d 9ms e |', { a: env(click('q1', 'quiet', H), 0), b: busy(1), c: busy(2), d: busy(3), e: busy(4) })
        .pipe(sessionize({ store, scheduler: ts, idleTimeoutMs }), map(label(store)));
      // partition 0 idle from 20 (seen at 20); partition 1 gets an event every 10 ms
      h.expectObservable(out).toBe('a 9ms b 9ms (cx) 6ms d 9ms e (fghi|)', {
        a: `+quiet@${H}`,
        b: `+busy1@${H + 1}`,
        c: `+busy2@${H + 2}`,
        x: `close:quiet:idle:1@${H + 30}`,
        d: `+busy3@${H + 3}`,
        e: `+busy4@${H + 4}`,
        f: `close:busy1:shutdown:1@${H + 4}`,
        g: `close:busy2:shutdown:1@${H + 4}`,
        h: `close:busy3:shutdown:1@${H + 4}`,
        i: `close:busy4:shutdown:1@${H + 4}`,
      });
    });
  });

  it('does not count a pause the consumer made (idleAllowed false) as idleness', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      // paused until 50: the idle clock starts again at the last check before (40), so 60
      const out = h
        .cold('a 99ms |', { a: env(click('e1', 's1', H)) })
        .pipe(sessionize({ store, scheduler: ts, idleTimeoutMs, idleAllowed: () => ts.now() >= 50 }), map(label(store)));
      h.expectObservable(out).toBe('a 59ms x 39ms |', { a: `+s1@${H}`, x: `close:s1:idle:1@${H + 30}` });
    });
  });

  it('without an idle timeout keeps a quiet partition’s sessions open until the input ends', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const out = h.cold('a 99ms |', { a: env(click('e1', 's1', H)) }).pipe(sessionize({ store, scheduler: ts }), map(label(store)));
      h.expectObservable(out).toBe('a 99ms (x|)', { a: `+s1@${H}`, x: `close:s1:shutdown:1@${H}` });
    });
  });
});
