// Property tests: whatever bytes arrive, ingest returns exactly one of event / tombstone / dead
// with a listed reason, and never reports its own bug (internal_error).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import avsc from 'avsc';
import { readFileSync } from 'node:fs';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { confluentFrame } from '../../../src/consumers/decode.ts';
import { ingest } from '../../../src/consumers/ingest.ts';
import { DLQ_REASONS } from '../../../src/contracts/dead-letters.ts';
import { type IngestResult } from '../../../src/consumers/types.ts';
import { clickEventType } from '../../../src/contracts/schemas.ts';
import { FIXTURE_SCHEMAS, NOW, ingestion, record } from './fixtures.ts';
import { hostileRecord } from '../../helpers/hostile-records.ts';

const CLICK_EVENT_AVSC = '../../../schemas/click-event.avsc';
const pipelines = {
  json: ingestion(),
  avro: ingestion({ format: 'avro', writerSchema: CLICK_EVENT_AVSC }),
  confluent: ingestion({ format: 'confluent', schemas: { '1': CLICK_EVENT_AVSC, '2': 'click-event-v0.avsc' } }),
  jsonMapped: ingestion({ mapping: { sessionId: 'session.id', type: 'event.action', timestamp: { path: 'ts', unit: 'iso' } } }),
  foreign: ingestion({
    format: 'avro',
    writerSchema: 'foreign-click.avsc',
    mapping: { eventId: 'id', sessionId: 'session', userId: 'user.id', timestamp: { path: 'ts', unit: 's' }, type: 'event.action', properties: 'attrs' },
  }),
};

/** The one property every input must satisfy. */
function assertWellFormed(r: IngestResult): void {
  expect(['event', 'tombstone', 'dead', 'no_consent']).toContain(r.kind);
  if (r.kind === 'dead') {
    expect(DLQ_REASONS).toContain(r.reason);
    expect(r.reason, r.message).not.toBe('internal_error');
    expect(r.message.length).toBeGreaterThan(0);
  }
  if (r.kind === 'event') expect(clickEventType().isValid(r.event)).toBe(true);
}

const text = fc.string({ maxLength: 40 });
const clickEvent: fc.Arbitrary<ClickEvent> = fc.record({
  eventId: text.filter((s) => s.length > 0),
  sessionId: text.filter((s) => s.length > 0),
  userId: fc.option(text.filter((s) => s.length > 0)),
  timestamp: fc.integer({ min: Date.UTC(2000, 0, 1), max: NOW }),
  type: text.filter((s) => s.length > 0),
  page: fc.option(text),
  durationMs: fc.option(fc.integer({ min: 0, max: 10 ** 9 })),
  // -0 would come back from JSON as 0.
  value: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v))),
  // avsc drops a map key named __proto__ when decoding (it assigns keys to a plain object); JSON keeps it.
  properties: fc.dictionary(text.filter((k) => k !== '__proto__'), text, { maxKeys: 5 }),
});

/** Flip, drop, insert or truncate bytes at random places. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('drop' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
);
function mutate(buf: Buffer, ops: { op: 'flip' | 'drop' | 'insert' | 'truncate'; at: number; byte: number }[]): Buffer {
  let b = Buffer.from(buf);
  for (const { op, at, byte } of ops) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (op === 'flip') b[i] = byte;
    else if (op === 'drop') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
    else b = b.subarray(0, i);
  }
  return b;
}

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('ingest never throws and always classifies (fuzz)', () => {
  for (const [name, pipeline] of Object.entries(pipelines)) {
    it(`random bytes, ${name}`, () => {
      fc.assert(fc.property(bytes, (value) => assertWellFormed(ingest(record(value), pipeline))), { numRuns: 400 });
    });
  }

  it('random bytes behind a valid Confluent header', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), bytes, (id, body) => assertWellFormed(ingest(record(confluentFrame(id, body)), pipelines.confluent))),
      { numRuns: 400 },
    );
  });

  it('valid events round-trip exactly, as JSON and as Avro', () => {
    fc.assert(
      fc.property(clickEvent, (event) => {
        expect(ingest(record(JSON.stringify(event)), pipelines.json)).toEqual({ kind: 'event', event });
        expect(ingest(record(confluentFrame(1, clickEventType().toBuffer(event))), pipelines.confluent)).toEqual({ kind: 'event', event });
      }),
      { numRuns: 200 },
    );
  });

  it('mutated valid JSON', () => {
    fc.assert(
      fc.property(clickEvent, fc.array(mutation, { minLength: 1, maxLength: 4 }), (event, ops) => {
        assertWellFormed(ingest(record(mutate(Buffer.from(JSON.stringify(event)), ops)), pipelines.json));
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary JSON values, and objects with wrongly typed ClickEvent fields', () => {
    const anyField = fc.jsonValue({ maxDepth: 2 });
    const shaped = fc.record(
      { eventId: anyField, sessionId: anyField, userId: anyField, timestamp: anyField, type: anyField, page: anyField, durationMs: anyField, value: anyField, properties: anyField },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), shaped), (v) => {
        assertWellFormed(ingest(record(JSON.stringify(v) ?? 'null'), pipelines.json));
        assertWellFormed(ingest(record(JSON.stringify(v) ?? 'null'), pipelines.jsonMapped));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated valid Avro, raw and Confluent', () => {
    fc.assert(
      fc.property(clickEvent, fc.array(mutation, { minLength: 1, maxLength: 4 }), (event, ops) => {
        const body = clickEventType().toBuffer(event);
        assertWellFormed(ingest(record(mutate(body, ops)), pipelines.avro));
        assertWellFormed(ingest(record(mutate(confluentFrame(1, body), ops)), pipelines.confluent));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated foreign-schema Avro read through a mapping', () => {
    const foreign = avsc.Type.forSchema(JSON.parse(readFileSync(`${FIXTURE_SCHEMAS}foreign-click.avsc`, 'utf8')));
    const value = foreign.toBuffer({ id: 'x', session: 's', ts: NOW / 1000, event: { action: 'tap', screen: null }, user: { id: 7 }, attrs: { a: 'b' } });
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ops) => assertWellFormed(ingest(record(mutate(value, ops)), pipelines.foreign))), {
      numRuns: 400,
    });
  });
  it('hostile records (huge strings, deep nesting, NaN/Infinity/1e308/-0, Avro of another schema, tombstones) in every format, with and without a consent field', () => {
    const consent = ingestion({ consent: 'consent' });
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(hostileRecord({ t0: NOW - 3_600_000, maxBytes: 1_100_000 }), (h) => {
        seen.set(h.kind, (seen.get(h.kind) ?? 0) + 1);
        for (const pipeline of [pipelines.json, pipelines.avro, pipelines.confluent, pipelines.jsonMapped, consent]) assertWellFormed(ingest(record(h.value, { key: h.key === null ? null : Buffer.from(h.key) }), pipeline));
      }),
      { numRuns: 600 },
    );
    // every family of hostile input was drawn
    expect([...seen.keys()].map((k) => k.replace(/-(json|avro|raw|confluent-\d+)$/, '')).sort()).toEqual(expect.arrayContaining(['avro-special-number', 'bytes', 'deep-nesting', 'huge-string', 'json', 'shaped', 'special-number', 'tombstone', 'valid', 'wrong-avro']));
  });
});
