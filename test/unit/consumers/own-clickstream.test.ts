// A user's own clickstream through the ingestion config: their field names, integer ids, their
// type names mapped onto the model's, no eventId, the session keyed by user, and the consent field.
import { describe, expect, it } from 'vitest';
import { ingest } from '../../../src/consumers/ingest.ts';
import { parseIngestionOptions } from '../../../src/consumers/options.ts';
import { clickEventType } from '../../../src/contracts/schemas.ts';
import { UserError } from '../../../src/errors.ts';
import { NOW, ingestion, json, record } from './fixtures.ts';

// The shape of the public e-commerce clickstream a new user tried (issue 17): integer ids, its own type names, no eventId.
const otto = (over: Record<string, unknown> = {}) => ({ session: 12, aid: 1517085, ts: NOW - 3_600_000, type: 'clicks', ...over });
const ottoConfig = {
  mapping: {
    sessionId: 'session',
    page: 'aid',
    timestamp: { path: 'ts', unit: 'ms' as const },
    type: { field: 'type', values: { clicks: 'product_view', carts: 'add_to_cart', orders: 'purchase' } },
  },
  eventIdFallback: 'hash' as const,
};

const eventOf = (r: ReturnType<typeof ingest>) => {
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
};

describe('ingestion of a foreign-shaped clickstream', () => {
  it('maps type values, converts integer ids and pages to strings, and gives events without an id a stable one', () => {
    const ing = ingestion(ottoConfig);
    const e = eventOf(ingest(record(json(otto())), ing));
    expect(e).toMatchObject({ sessionId: '12', page: '1517085', type: 'product_view', timestamp: NOW - 3_600_000, userId: null });
    expect(clickEventType().isValid(e)).toBe(true);
    expect(eventOf(ingest(record(json(otto({ type: 'carts' }))), ing)).type).toBe('add_to_cart');
    expect(eventOf(ingest(record(json(otto({ type: 'orders' }))), ing)).type).toBe('purchase');
    // an unlisted value passes through unchanged (the processor counts it as an unknown type)
    expect(eventOf(ingest(record(json(otto({ type: 'wishlist' }))), ing)).type).toBe('wishlist');
    // type codes are names too
    expect(eventOf(ingest(record(json(otto({ type: 3 }))), ingestion({ mapping: { ...ottoConfig.mapping, type: { field: 'type', values: { '3': 'purchase' } } }, eventIdFallback: 'hash' }))).type).toBe('purchase');
  });

  it('eventIdFallback hash: the same bytes give the same id on any topic, partition or offset; other bytes another', () => {
    const ing = ingestion(ottoConfig);
    const a = eventOf(ingest(record(json(otto()), { topic: 'a', partition: 0, offset: 1n }), ing));
    const b = eventOf(ingest(record(json(otto()), { topic: 'b', partition: 2, offset: 99n }), ing));
    const c = eventOf(ingest(record(json(otto({ ts: NOW - 3_599_000 }))), ing));
    expect(a.eventId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b.eventId).toBe(a.eventId);
    expect(c.eventId).not.toBe(a.eventId);
    // offset keeps its form; none dead-letters naming the option
    expect(eventOf(ingest(record(json(otto()), { topic: 't', partition: 1, offset: 7n }), ingestion({ ...ottoConfig, eventIdFallback: 'offset' }))).eventId).toBe('t-1-7');
    const none = ingest(record(json(otto())), ingestion({ ...ottoConfig, eventIdFallback: 'none' }));
    expect(none).toMatchObject({ kind: 'dead', reason: 'missing_field', message: 'eventId is missing; every event needs one (or set ingestion.eventIdFallback to hash or offset).' });
  });

  it('an integer page from a nested field, an integer user id', () => {
    const ing = ingestion({ mapping: { eventId: 'id', sessionId: 'sid', userId: 'u.id', page: 'item.sku', type: 'kind', timestamp: { path: 'at', unit: 's' } } });
    const e = eventOf(ingest(record(json({ id: 5, sid: 'x', u: { id: 77 }, item: { sku: 123456 }, kind: 'view', at: (NOW - 10_000) / 1000 })), ing));
    expect(e).toMatchObject({ eventId: '5', userId: '77', page: '123456', timestamp: NOW - 10_000 });
    const bad = ingest(record(json({ id: 5, sid: 'x', item: { sku: 1.5 }, kind: 'view', at: NOW / 1000 })), ing);
    expect(bad).toMatchObject({ kind: 'dead', reason: 'wrong_type', message: 'item.sku (mapped to page) must be a string, an integer or null, got a number.' });
  });

  it('sessionKey userId: the user is the session key (cut by the gap downstream), and every event needs a user', () => {
    const ing = ingestion({ mapping: { userId: 'visitor', type: 'type', timestamp: 'ts' }, sessionKey: 'userId', eventIdFallback: 'offset' });
    const e = eventOf(ingest(record(json({ visitor: 9, type: 'page_view', ts: NOW - 1000 })), ing));
    expect(e).toMatchObject({ sessionId: '', userId: '9' });
    expect(ingest(record(json({ type: 'page_view', ts: NOW - 1000 })), ing)).toMatchObject({
      kind: 'dead',
      reason: 'missing_field',
      message: 'visitor (mapped to userId) is missing; ingestion.sessionKey is userId, so every event needs one.',
    });
  });

  it('`field` and `path` name the same thing; both at once is an error naming the option', () => {
    expect(parseIngestionOptions({ mapping: { sessionId: { field: 'session' } } }).mapping?.sessionId).toEqual({ field: 'session' });
    expect(() => parseIngestionOptions({ mapping: { type: { path: 'a', field: 'b' } } })).toThrow(/ingestion\.mapping\.type takes path or field \(the same thing\), not both/);
    expect(() => parseIngestionOptions({ mapping: { type: { field: 'type', values: { clicks: '' } } } })).toThrow(/ingestion\.mapping\.type\.values\.clicks must not be empty/);
    expect(() => parseIngestionOptions({ sessionKey: 'session' })).toThrow(/ingestion\.sessionKey must be one of sessionId, userId/);
    expect(() => parseIngestionOptions({ eventIdFallback: 'uuid' })).toThrow(/ingestion\.eventIdFallback must be one of none, offset, hash/);
  });
});

describe('ingestion.consent', () => {
  const base = { mapping: { sessionId: 'session', type: 'type', timestamp: 'ts' }, eventIdFallback: 'hash' as const };

  it('events without analytics consent are withheld (not events, not dead letters), whatever else is wrong with them', () => {
    const ing = ingestion({ ...base, consent: 'consent.analytics' });
    const ev = (consent: unknown) => ({ session: 's', type: 'page_view', ts: NOW - 1000, ...(consent === undefined ? {} : { consent: { analytics: consent } }) });
    for (const yes of [true, 'true', 'granted', 'YES', 1, '1']) expect(ingest(record(json(ev(yes))), ing).kind).toBe('event');
    for (const no of [false, 'false', 'denied', 0, null, undefined, { x: 1 }]) expect(ingest(record(json(ev(no))), ing)).toEqual({ kind: 'no_consent' });
    // a malformed record without consent is not copied to the dead-letter topic either
    expect(ingest(record(json({ consent: { analytics: false }, ts: 'soon' })), ing)).toEqual({ kind: 'no_consent' });
    // with consent the same record is judged as usual
    expect(ingest(record(json({ consent: { analytics: true }, ts: 'soon' })), ing).kind).toBe('dead');
  });

  it('takes its own list of values that mean consent, and applies per topic', () => {
    const ing = ingestion({ ...base, consent: { path: 'gdpr', granted: ['opt-in'] }, perTopic: { app: { consent: { field: 'c', granted: [true] } } } });
    const ev = (extra: object) => json({ session: 's', type: 'page_view', ts: NOW - 1000, ...extra });
    expect(ingest(record(ev({ gdpr: 'Opt-In' })), ing).kind).toBe('event');
    expect(ingest(record(ev({ gdpr: 'yes' })), ing).kind).toBe('no_consent');
    expect(ingest(record(ev({ c: true }), { topic: 'app' }), ing).kind).toBe('event');
    expect(ingest(record(ev({ gdpr: 'opt-in' }), { topic: 'app' }), ing).kind).toBe('no_consent');
  });

  it('rejects a consent option without a field, naming it', () => {
    try {
      parseIngestionOptions({ consent: { granted: [true] } });
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toContain('ingestion.consent needs path (the field that holds the consent), e.g. { "path": "consent.analytics" }');
    }
  });
});
