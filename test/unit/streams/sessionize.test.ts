import { type Observable, map } from 'rxjs';
import { type RunHelpers, TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type SessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type ClickEnvelope, type SessionEvent } from '../../../src/streams/outcomes.ts';
import { type ClosedSession, SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { type SessionView } from '../../../src/journey/session-view.ts';
import { click, env, tinyImage, tinySession } from './events.ts';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function describeEvent(store: SessionStore) {
  return (e: SessionEvent): string => {
    switch (e.kind) {
      case 'changed': {
        const v = store.view(e.slot);
        return e.released ? `release:${v.sessionId}:${v.eventCount}` : `+${v.sessionId}:${v.eventCount}`;
      }
      case 'close':
        return `close:${e.sessionId}:${e.reason}:${e.eventCount}`;
      case 'update':
        return `quiet:${e.sessionId}@${e.asOf}`;
      case 'late':
        return `late:${e.envelope.event.eventId}`;
      case 'duplicate':
        return `dup:${e.envelope.event.eventId}`;
    }
  };
}

function sessionized(
  ts: TestScheduler,
  h: RunHelpers,
  marble: string,
  values: Record<string, ClickEnvelope>,
  session: SessionizationSpec = tinySession,
  idleTimeoutMs?: number,
): { out: Observable<string>; store: SessionStore; closes: SessionView[] } {
  const store = new SessionStore(tinyImage, session);
  const closes: SessionView[] = [];
  const out = h.cold(marble, values).pipe(
    sessionize({ store, scheduler: ts, idleTimeoutMs }),
    map((e) => {
      if (e.kind === 'close') closes.push(e);
      return describeEvent(store)(e);
    }),
  );
  return { out, store, closes };
}

describe('sessionize (virtual time)', () => {
  it('closes a session once its partition watermark passes last event + gap, not before', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(ts, h, 'a 9ms b 9ms c 9ms d 9ms |', {
        a: env(click('e1', 's1', 0)),
        b: env(click('e2', 's1', 10)),
        c: env(click('e3', 's2', 44)), // watermark 39: not past 10 + 30
        d: env(click('e4', 's2', 46)), // watermark 41: past it
      });
      h.expectObservable(out).toBe('a 9ms b 9ms c 9ms (dx) 6ms (y|)', {
        a: '+s1:1',
        b: '+s1:2',
        c: '+s2:1',
        d: '+s2:2',
        x: 'close:s1:gap:2',
        y: 'close:s2:shutdown:2',
      });
    });
  });

  it('closes at the maximum session length; the next event starts a new session', () => {
    const spec = { gapMs: 50, maxSessionMs: 100, allowedLatenessMs: 5 };
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(
        ts,
        h,
        'abcd 6ms |',
        {
          a: env(click('e1', 's1', 0)),
          b: env(click('e2', 's1', 40)),
          c: env(click('e3', 's1', 80)),
          d: env(click('e4', 's1', 100)), // spans 100 ms with the first: too long
        },
        spec,
      );
      h.expectObservable(out).toBe('abc(xd) 3ms (y|)', {
        a: '+s1:1',
        b: '+s1:2',
        c: '+s1:3',
        x: 'close:s1:maxLength:3',
        d: '+s1:1',
        y: 'close:s1:shutdown:1',
      });
    });
  });

  it('closes by maximum length when the watermark passes first event + maxSessionMs', () => {
    const spec = { gapMs: 50, maxSessionMs: 100, allowedLatenessMs: 5 };
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(
        ts,
        h,
        'abcd 3ms |',
        { a: env(click('e1', 's1', 0)), b: env(click('e2', 's1', 45)), c: env(click('e3', 's1', 90)), d: env(click('e4', 's2', 106)) },
        spec,
      );
      h.expectObservable(out).toBe('abc(dx)(y|)', {
        a: '+s1:1',
        b: '+s1:2',
        c: '+s1:3',
        d: '+s2:1',
        x: 'close:s1:maxLength:3',
        y: 'close:s2:shutdown:1',
      });
    });
  });

  it('routes an event for an already closed session to late, with its envelope', () => {
    const late = env(click('e9', 's1', 3), 0, 77);
    let seen: ClickEnvelope | undefined;
    const ts = newScheduler();
    ts.run((h) => {
      const store = new SessionStore(tinyImage, tinySession);
      const out = h
        .cold('ab 3ms c 3ms |', { a: env(click('e1', 's1', 0)), b: env(click('e2', 's2', 40)), c: late })
        .pipe(
          sessionize({ store, scheduler: ts }),
          map((e) => {
            if (e.kind === 'late') seen = e.envelope;
            return describeEvent(store)(e);
          }),
        );
      h.expectObservable(out).toBe('a(bx)c 3ms (y|)', { a: '+s1:1', b: '+s2:1', x: 'close:s1:gap:1', c: 'late:e9', y: 'close:s2:shutdown:1' });
    });
    expect(seen).toBe(late);
  });

  it('inserts events that arrive out of order (within the window) in event-time order', () => {
    let closes: SessionView[] = [];
    const ts = newScheduler();
    ts.run((h) => {
      const r = sessionized(ts, h, 'abc|', {
        a: env(click('e1', 's1', 10, { type: 'a' })),
        b: env(click('e2', 's1', 30, { type: 'c' })),
        c: env(click('e3', 's1', 20, { type: 'b' })), // behind the watermark (25), session still open
      });
      closes = r.closes;
      h.expectObservable(r.out).toBe('abc(x|)', { a: '+s1:1', b: '+s1:2', c: '+s1:3', x: 'close:s1:shutdown:3' });
    });
    expect(closes[0]!.recentTypes()).toEqual(['a', 'b', 'c']);
    expect(closes[0]!.windowStart).toBe(10);
    expect(closes[0]!.windowEnd).toBe(30);
    expect(closes[0]!.lastEventId).toBe('e3');
  });

  it('ignores a duplicate eventId and does not count it', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(ts, h, 'abc|', {
        a: env(click('e1', 's1', 0)),
        b: env(click('e2', 's1', 5)),
        c: env(click('e1', 's1', 0)),
      });
      h.expectObservable(out).toBe('abc(x|)', { a: '+s1:1', b: '+s1:2', c: 'dup:e1', x: 'close:s1:shutdown:2' });
    });
  });

  it('advances watermarks per partition: one partition running ahead does not close another partition’s sessions', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(ts, h, 'abc 3ms |', {
        a: env(click('e1', 's1', 0), 0),
        b: env(click('e2', 's2', 100), 1), // partition 1 at 95: s1 lives on partition 0
        c: env(click('e3', 's3', 36), 0), // partition 0 at 31 > 0 + 30
      });
      h.expectObservable(out).toBe('ab(cx)(yz|)', {
        a: '+s1:1',
        b: '+s2:1',
        c: '+s3:1',
        x: 'close:s1:gap:1',
        y: 'close:s3:shutdown:1',
        z: 'close:s2:shutdown:1',
      });
    });
  });

  it('keys events without a sessionId by user, splitting on the inactivity gap', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(ts, h, 'abc 4ms |', {
        a: env(click('e1', '', 0, { userId: 'u7' })),
        b: env(click('e2', '', 10, { userId: 'u7' })),
        c: env(click('e3', '', 50, { userId: 'u7' })), // 40 ms after the last one: a new session
      });
      h.expectObservable(out).toBe('ab(cxr)(y|)', {
        a: '+u:u7:0:1',
        b: '+u:u7:0:2',
        c: '+u:u7:50:1', // held: the earlier session of u7 is still open
        x: 'close:u:u7:0:gap:2', // the watermark (45) passed 10 + 30
        r: 'release:u:u7:50:1', // ... and now it may emit
        y: 'close:u:u7:50:shutdown:1',
      });
    });
  });

  it('merges two sessions of a user when a late event bridges the gap between them', () => {
    const ts = newScheduler();
    ts.run((h) => {
      const { out } = sessionized(ts, h, 'abc|', {
        a: env(click('e1', '', 0, { userId: 'u7' })),
        b: env(click('e2', '', 35, { userId: 'u7' })), // more than the gap after e1: a second session, for now
        c: env(click('e3', '', 20, { userId: 'u7' })), // within the gap of both
      });
      h.expectObservable(out).toBe('abc(x|)', {
        a: '+u:u7:0:1',
        b: '+u:u7:35:1',
        c: '+u:u7:0:3',
        x: 'close:u:u7:0:shutdown:3',
      });
    });
  });
});

describe('SessionStore offsets', () => {
  it('reports the smallest offset still needed per partition and forgets it when the session closes', () => {
    const store = new SessionStore(tinyImage, tinySession);
    const closed: never[] = [];
    store.offer(click('e1', 's1', 0), 0, 1000n, -Infinity, closed);
    store.offer(click('e2', 's2', 5), 0, 1001n, -Infinity, closed);
    store.offer(click('e3', 's1', 6), 0, 1002n, -Infinity, closed);
    store.offer(click('e4', 's3', 7), 1, 9007199254740000n, -Infinity, closed);
    expect(store.lowWatermark(0)).toBe(1000n);
    expect(store.lowWatermark(1)).toBe(9007199254740000n);
    expect(store.lowWatermark(2)).toBeUndefined();
    const out: ClosedSession[] = [];
    store.closeExpired(0, 36, out); // past s1 (last 6 + 30 = 36)? no: needs > 36
    expect(out).toHaveLength(1);
    expect(out[0]!.view.sessionId).toBe('s2');
    store.closeExpired(0, 37, out);
    expect(out.map((c) => c.view.sessionId)).toEqual(['s2', 's1']);
    expect(store.lowWatermark(0)).toBeUndefined();
    expect(store.dropPartition(1)).toBe(1);
    expect(store.size).toBe(0);
    expect(store.lowWatermark(1)).toBeUndefined();
  });
});

describe('SessionStore slots', () => {
  it('releases a closed session’s slot for the next session instead of growing', () => {
    const store = new SessionStore(tinyImage, tinySession, { initialCapacity: 16 });
    const closed: ClosedSession[] = [];
    for (let i = 0; i < 1000; i++) {
      // each session starts after the previous one's gap, on one partition
      const t = i * 100;
      store.offer(click(`e${i}`, `s${i}`, t), 0, BigInt(i), t - 5, closed);
      store.closeExpired(0, t - 5, closed);
    }
    expect(closed).toHaveLength(999);
    expect(store.size).toBe(1);
    expect(store.capacity).toBe(16);
  });

  it('keeps the earliest offset of merged user sessions', () => {
    const store = new SessionStore(tinyImage, tinySession);
    const closed: ClosedSession[] = [];
    store.offer(click('e1', '', 0, { userId: 'u' }), 0, 10n, -Infinity, closed);
    store.offer(click('e2', '', 35, { userId: 'u' }), 0, 11n, -Infinity, closed);
    expect(store.size).toBe(2);
    store.offer(click('e3', '', 20, { userId: 'u' }), 0, 12n, -Infinity, closed);
    expect(store.size).toBe(1);
    expect(store.lowWatermark(0)).toBe(10n);
    store.closeAll('shutdown', closed);
    expect(closed.map((c) => [c.view.sessionId, c.view.eventCount, c.view.firstOffset])).toEqual([['u:u:0', 3, 10n]]);
  });

  it('refuses an idle timeout below 1 ms, naming the option', () => {
    const store = new SessionStore(tinyImage, tinySession);
    expect(() => sessionize({ store, idleTimeoutMs: 0 })).toThrow(/idleTimeoutMs must be at least 1 ms/);
  });
});
