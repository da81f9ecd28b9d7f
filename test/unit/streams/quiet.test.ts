// Quiet re-scores (SessionizationSpec.quietEveryMs) and the event time each emitted view
// describes (`asOf`): a session that has gone quiet is scored again before its gap closes it.
import { describe, expect, it } from 'vitest';
import { type SessionizationSpec, validateSessionizationSpec } from '../../../src/journey/image-spec.ts';
import { signalIdFor } from '../../../src/contracts/scorer.ts';
import { type ClickEnvelope, type SessionOutcome } from '../../../src/streams/outcomes.ts';
import { type ClosedSession, type QuietSession, SessionStore } from '../../../src/streams/session-store.ts';
import { quietMs } from '../../../src/journey/session-view.ts';
import { click, env, expectSessions, tinyImage } from './events.ts';

const quietSpec: SessionizationSpec = { gapMs: 30, maxSessionMs: 1000, allowedLatenessMs: 5, quietEveryMs: 10 };

function label(o: SessionOutcome): string {
  switch (o.kind) {
    case 'update':
      return `${quietMs(o) > 0 ? 'quiet' : 'upd'}:${o.sessionId}:${o.eventCount}@${o.asOf}`;
    case 'close':
      return `close:${o.sessionId}:${o.reason}@${o.asOf}`;
    case 'late':
      return `late:${o.envelope.event.eventId}`;
    case 'duplicate':
      return `dup:${o.envelope.event.eventId}`;
  }
}

function run(marble: string, values: Record<string, ClickEnvelope>, expected: string, labels: Record<string, string>, session = quietSpec): void {
  expectSessions(marble, values, expected, labels, { tickMs: 10, maxBatch: 100, session, label });
}

describe('quiet re-scores', () => {
  it('re-scores a quiet session at each checkpoint the watermark passes, then closes it at last event + gap', () => {
    run(
      'a 9ms b 9ms c 9ms d 9ms |',
      {
        a: env(click('e1', 's1', 0)),
        b: env(click('e2', 's2', 16)), // watermark 11: past s1's checkpoint 10
        c: env(click('e3', 's2', 26)), // watermark 21: past s1's checkpoint 20
        d: env(click('e4', 's2', 36)), // watermark 31: past s1's gap (30), not s2's checkpoint (36)
      },
      '10ms (uq) 6ms (rw) 6ms (xy) 6ms (z|)',
      {
        u: 'upd:s1:1@0',
        q: 'quiet:s1:1@10',
        r: 'quiet:s1:1@20',
        w: 'upd:s2:2@26',
        x: 'close:s1:gap@30',
        y: 'upd:s2:3@36',
        z: 'close:s2:shutdown@36',
      },
    );
  });

  it('reports only the newest checkpoint when the watermark jumps past several, once', () => {
    const store = new SessionStore(tinyImage, { ...quietSpec, gapMs: 100 });
    const closed: ClosedSession[] = [];
    const quiet: QuietSession[] = [];
    store.offer(click('e1', 's1', 0), 0, 0n, -Infinity, closed);
    store.closeExpired(0, 45, closed, quiet);
    expect(quiet.map((q) => q.asOf)).toEqual([40]);
    store.closeExpired(0, 50, closed, quiet); // 50 is not past the next checkpoint (50)
    expect(quiet.map((q) => q.asOf)).toEqual([40]);
    store.closeExpired(0, 51, closed, quiet);
    expect(quiet.map((q) => q.asOf)).toEqual([40, 50]);
    // a new event starts the schedule again from it
    store.offer(click('e2', 's1', 48), 0, 1n, 51, closed);
    store.closeExpired(0, 55, closed, quiet);
    expect(quiet.map((q) => q.asOf)).toEqual([40, 50]);
    store.closeExpired(0, 59, closed, quiet);
    expect(quiet.map((q) => q.asOf)).toEqual([40, 50, 58]);
    expect(closed).toHaveLength(0);
  });

  it('supersedes a change still pending in the tick, so no older update follows the quiet one', () => {
    run(
      'ab 9ms |',
      {
        a: env(click('e1', 's1', 0)),
        b: env(click('e2', 's2', 16)), // watermark 11: s1's pending first event goes out with the quiet re-score
      },
      '- q 8ms u (zy|)',
      { q: 'quiet:s1:1@10', u: 'upd:s2:1@16', z: 'close:s1:shutdown@16', y: 'close:s2:shutdown@16' },
    );
  });

  it('is off without quietEveryMs: closes carry their deadline as asOf', () => {
    run(
      'a 9ms b 9ms |',
      { a: env(click('e1', 's1', 0)), b: env(click('e2', 's2', 40)) },
      '10ms (ux) 6ms (y|)',
      { u: 'upd:s1:1@0', x: 'close:s1:gap@30', y: 'close:s2:shutdown@40' },
      { gapMs: 30, maxSessionMs: 1000, allowedLatenessMs: 5 },
    );
  });

  it('gives a quiet re-score its own signal id', () => {
    const update = signalIdFor('s1', 'e1', 'm1', false);
    expect(signalIdFor('s1', 'e1', 'm1', false, 10)).not.toBe(update);
    expect(signalIdFor('s1', 'e1', 'm1', false, 10)).not.toBe(signalIdFor('s1', 'e1', 'm1', false, 20));
    expect(signalIdFor('s1', 'e1', 'm1', true)).not.toBe(update);
  });

  it('refuses a quiet interval that the gap would pre-empt, naming the field', () => {
    expect(() => validateSessionizationSpec({ gapMs: 30, maxSessionMs: 100, allowedLatenessMs: 5, quietEveryMs: 30 })).toThrow(
      /sessionization\.quietEveryMs \(30\) must be less than sessionization\.gapMs \(30\)/,
    );
    expect(() => validateSessionizationSpec({ gapMs: 30, maxSessionMs: 100, allowedLatenessMs: 5, quietEveryMs: -1 })).toThrow(/quietEveryMs must be an integer from 0/);
    expect(validateSessionizationSpec({ gapMs: 30, maxSessionMs: 100, allowedLatenessMs: 5, quietEveryMs: 0 })).toEqual({ gapMs: 30, maxSessionMs: 100, allowedLatenessMs: 5 });
  });
});
