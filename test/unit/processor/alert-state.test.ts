import { describe, expect, it } from 'vitest';
import { alertStateTopicFor, comparePositions, decodeSession, deliveredKey, encodeSession, sessionKey, type StoredSession } from '../../../src/processor/alert-state.ts';

describe('alert state records', () => {
  it('round-trips a session state, offsets beyond 2^53 included', () => {
    const s: StoredSession = { latched: 2, lastAlertAt: 1_795_000_000_000, raised: [1, 3], at: [2n ** 60n + 7n, 1_795_000_000_500, 1] };
    expect(decodeSession(encodeSession(s))).toEqual(s);
  });

  it('refuses what is not a state record instead of restoring garbage', () => {
    for (const v of ['', 'null', '{}', '{"v":2,"latched":1,"lastAlertAt":0,"raised":[0,0],"at":["1",0,0]}', '{"v":1,"latched":"1","lastAlertAt":0,"raised":[0,0],"at":["1",0,0]}', '{"v":1,"latched":1,"lastAlertAt":0,"raised":[0,0],"at":[1,0,0]}', 'not json']) {
      expect(decodeSession(v), v).toBeUndefined();
    }
  });

  it('orders a session\'s updates by offset, then event time, and a final after the rest', () => {
    expect(comparePositions([5n, 10, 0], [6n, 0, 0])).toBeLessThan(0);
    expect(comparePositions([6n, 10, 0], [6n, 20, 0])).toBeLessThan(0);
    expect(comparePositions([6n, 20, 0], [6n, 20, 1])).toBeLessThan(0);
    expect(comparePositions([6n, 20, 1], [6n, 20, 1])).toBe(0);
    expect(comparePositions([7n, 0, 0], [6n, 99, 1])).toBeGreaterThan(0);
  });

  it('keys the two kinds apart and names the topic after the alerts topic', () => {
    expect(sessionKey('s:1')).toBe('s:s:1');
    expect(deliveredKey('abc')).toBe('d:abc');
    expect(alertStateTopicFor('churn.alerts')).toBe('churn.alerts.state');
  });
});
