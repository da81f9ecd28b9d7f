import { describe, expect, it } from 'vitest';
import { type ClickEnvelope, type SessionOutcome } from '../../../src/streams/outcomes.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { click, env, expectSessions, tinyImage, tinySession } from './events.ts';

function label(o: SessionOutcome): string {
  switch (o.kind) {
    case 'update':
      return `upd:${o.sessionId}:${o.eventCount}`;
    case 'close':
      return `close:${o.sessionId}:${o.reason}:${o.eventCount}`;
    case 'late':
      return `late:${o.envelope.event.eventId}`;
    case 'duplicate':
      return `dup:${o.envelope.event.eventId}`;
  }
}

function runPipeline(marble: string, values: Record<string, ClickEnvelope>, expected: string, labels: Record<string, string>, opts: { tickMs: number; maxBatch: number; flush?: string }): void {
  expectSessions(marble, values, expected, labels, { ...opts, label });
}

describe('micro-batcher (virtual time)', () => {
  it('re-emits each changed session once per tick, with its latest state', () => {
    runPipeline(
      'abcd 8ms e 12ms |',
      {
        a: env(click('e1', 's1', 0)),
        b: env(click('e2', 's1', 1)),
        c: env(click('e3', 's2', 2)),
        d: env(click('e4', 's1', 3)),
        e: env(click('e5', 's1', 12)),
      },
      '10ms (xy) 6ms z 4ms (vw|)',
      { x: 'upd:s1:3', y: 'upd:s2:1', z: 'upd:s1:4', v: 'close:s2:shutdown:1', w: 'close:s1:shutdown:4' },
      { tickMs: 10, maxBatch: 100 },
    );
  });

  it('emits the pending updates whenever the caller asks (the processor cuts its own ticks), the timer staying the upper bound', () => {
    runPipeline(
      'ab 2ms c 16ms |',
      { a: env(click('e1', 's1', 0)), b: env(click('e2', 's2', 1)), c: env(click('e3', 's1', 3)) },
      '-- (xy) z 14ms (wv|)',
      { x: 'upd:s1:1', y: 'upd:s2:1', z: 'upd:s1:2', v: 'close:s1:shutdown:2', w: 'close:s2:shutdown:1' },
      { tickMs: 10, maxBatch: 100, flush: '--f 3ms g' },
    );
  });

  it('emits a batch early when maxBatch sessions are pending', () => {
    runPipeline(
      'abc 196ms |',
      { a: env(click('e1', 's1', 0)), b: env(click('e2', 's2', 1)), c: env(click('e3', 's3', 2)) },
      '- (xy) 95ms z 98ms (uvw|)',
      { x: 'upd:s1:1', y: 'upd:s2:1', z: 'upd:s3:1', u: 'close:s1:shutdown:1', v: 'close:s2:shutdown:1', w: 'close:s3:shutdown:1' },
      { tickMs: 100, maxBatch: 2 },
    );
  });

  it('does not emit an update for a session that closed during the tick: its close is final', () => {
    runPipeline(
      'ab 20ms |',
      { a: env(click('e1', 's1', 0)), b: env(click('e2', 's2', 100)) },
      '- x 8ms y 11ms (z|)',
      { x: 'close:s1:gap:1', y: 'upd:s2:1', z: 'close:s2:shutdown:1' },
      { tickMs: 10, maxBatch: 100 },
    );
  });

  it('passes duplicates and late events straight through, between ticks', () => {
    runPipeline(
      'a b c 7ms |',
      { a: env(click('e1', 's1', 0)), b: env(click('e1', 's1', 0)), c: env(click('e2', 's0', -100)) },
      '-bc 7ms (x|)',
      { b: 'dup:e1', c: 'late:e2', x: 'close:s1:shutdown:1' },
      { tickMs: 100, maxBatch: 100 },
    );
  });
});

describe('micro-batcher options', () => {
  it('refuses a non-positive tick or batch size, naming the option', () => {
    const store = new SessionStore(tinyImage, tinySession);
    expect(() => journeySessions({ store, tickMs: 0 })).toThrow(/tickMs must be a positive number/);
    expect(() => journeySessions({ store, maxBatch: 0 })).toThrow(/maxBatch must be a positive integer/);
  });
});
