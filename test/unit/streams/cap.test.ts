// The session cap: beyond maxSessions open sessions, the least recently active one closes early
// with reason 'evicted'; what is kept keeps every event.
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type SessionClose } from '../../../src/journey/session-view.ts';
import { type ClickEnvelope } from '../../../src/streams/outcomes.ts';
import { type ClosedSession, SessionStore, defaultMaxSessions } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { click, env, tinyImage, tinySession } from './events.ts';

describe('session cap', () => {
  it('evicts the least recently active session when a new one would exceed the cap', () => {
    const store = new SessionStore(tinyImage, tinySession, { maxSessions: 3 });
    const closed: ClosedSession[] = [];
    store.offer(click('a1', 'a', 0), 0, 0n, -Infinity, closed);
    store.offer(click('b1', 'b', 1), 0, 1n, -Infinity, closed);
    store.offer(click('c1', 'c', 2), 1, 2n, -Infinity, closed);
    store.offer(click('a2', 'a', 3), 0, 3n, -Infinity, closed); // a is active again: b is now the least recent
    expect(closed).toHaveLength(0);
    store.offer(click('d1', 'd', 4), 1, 4n, -Infinity, closed);
    expect(closed.map((c) => [c.view.sessionId, c.reason, c.view.eventCount, c.at])).toEqual([['b', 'evicted', 1, 1]]);
    expect(store.size).toBe(3);
    expect(store.evictions).toBe(1);
    store.offer(click('e1', 'e', 5), 0, 5n, -Infinity, closed);
    expect(closed.map((c) => c.view.sessionId)).toEqual(['b', 'c']);
    // what was kept keeps all its events
    store.closeAll('shutdown', closed);
    expect(closed.slice(2).map((c) => [c.view.sessionId, c.view.eventCount]).sort()).toEqual([
      ['a', 2],
      ['d', 1],
      ['e', 1],
    ]);
  });

  it('never grows its slots beyond the cap', () => {
    const store = new SessionStore(tinyImage, tinySession, { maxSessions: 100, initialCapacity: 16 });
    const closed: ClosedSession[] = [];
    for (let i = 0; i < 1000; i++) store.offer(click(`e${i}`, `s${i}`, i % 20), 0, BigInt(i), -Infinity, closed);
    expect(store.size).toBe(100);
    expect(store.capacity).toBe(100);
    expect(closed).toHaveLength(900);
    expect(closed.every((c) => c.reason === 'evicted')).toBe(true);
  });

  it('lets a held session emit once the earlier session of its key was evicted', () => {
    const store = new SessionStore(tinyImage, tinySession, { maxSessions: 2 });
    const envelopes: ClickEnvelope[] = [
      env(click('e1', 's1', 0)),
      env(click('e2', 's1', 33)), // past the gap, not yet past the watermark: held behind s1 [0]
      env(click('e3', 'x', 34)), // the cap evicts s1 [0], the least recently active
    ];
    const out: string[] = [];
    from(envelopes)
      .pipe(sessionize({ store, closeOnComplete: false }))
      .subscribe((o) => {
        if (o.kind === 'changed') out.push(`${o.released ? 'release' : 'change'}:${store.view(o.slot).sessionStart}`);
        else if (o.kind === 'close') out.push(`close:${(o as SessionClose).sessionStart}:${(o as SessionClose).reason}`);
      });
    expect(out).toEqual(['change:0', 'change:33', 'close:0:evicted', 'release:33', 'change:34']);
  });

  it('sizes the default cap from memory: a quarter of the heap limit at 512 bytes per session', () => {
    expect(defaultMaxSessions(4 * 2 ** 30, undefined)).toBe(2 ** 21);
    expect(defaultMaxSessions(4 * 2 ** 30, 2 ** 30)).toBe(2 ** 19); // a 1 GiB container
    expect(defaultMaxSessions(4 * 2 ** 30, 2 ** 64)).toBe(2 ** 21); // no container limit
    expect(defaultMaxSessions(1, undefined)).toBe(1000);
  });
});
