// Test helpers: small click events and the compact specs the stream tests use.
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type ImageSpec, type SessionizationSpec, defaultImageSpec } from '../../../src/journey/image-spec.ts';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { type ClickEnvelope, type SessionOutcome } from '../../../src/streams/outcomes.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';

export function click(eventId: string, sessionId: string, timestamp: number, extra: Partial<ClickEvent> = {}): ClickEvent {
  return { eventId, sessionId, userId: 'u1', timestamp, type: 'page_view', page: '/home', durationMs: 1000, value: null, properties: {}, ...extra };
}

let nextOffset = 0;

export function env(event: ClickEvent, partition = 0, offset?: number): ClickEnvelope {
  return { event, partition, offset: BigInt(offset ?? nextOffset++) };
}

/** gap 30, lateness 5, max length 1000 (virtual ms), so marbles stay short. */
export const tinySession: SessionizationSpec = { gapMs: 30, maxSessionMs: 1000, allowedLatenessMs: 5 };

export const tinyImage: ImageSpec = { ...defaultImageSpec, rows: 4, eventTypes: ['a', 'b', 'c'], pageBuckets: 2 };

/** Marble test of sessionize → micro-batch: `marble`/`values` in, `expected`/`labels` out (each outcome through `label`). */
export function expectSessions(
  marble: string,
  values: Record<string, ClickEnvelope>,
  expected: string,
  labels: Record<string, string>,
  opts: { tickMs: number; maxBatch: number; session?: SessionizationSpec; label: (o: SessionOutcome) => string; flush?: string },
): void {
  const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
  ts.run((h) => {
    const store = new SessionStore(tinyImage, opts.session ?? tinySession);
    const flush = opts.flush === undefined ? {} : { flush: h.cold(opts.flush) };
    const out = h.cold(marble, values).pipe(journeySessions({ store, scheduler: ts, tickMs: opts.tickMs, maxBatch: opts.maxBatch, ...flush }), map(opts.label));
    h.expectObservable(out).toBe(expected, labels);
  });
}
