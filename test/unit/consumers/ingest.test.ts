import { describe, expect, it } from 'vitest';
// avsc is CommonJS: Node's ESM loader only offers its default export.
import avsc, { type Type } from 'avsc';
import { readFileSync } from 'node:fs';
import { confluentFrame, parseIngestSchema } from '../../../src/consumers/decode.ts';
import { ingest, toIngestRecord } from '../../../src/consumers/ingest.ts';
import { type IngestResult } from '../../../src/consumers/types.ts';
import { clickEventType } from '../../../src/contracts/schemas.ts';
import { FIXTURE_SCHEMAS, NOW, ingestion, json, record, validEvent } from './fixtures.ts';

const fixtureType = (name: string): Type => avsc.Type.forSchema(JSON.parse(readFileSync(`${FIXTURE_SCHEMAS}${name}`, 'utf8')));

const deadReason = (r: IngestResult): string => (r.kind === 'dead' ? r.reason : `not dead: ${r.kind}`);

describe('ingest: JSON', () => {
  const ing = ingestion();

  it('turns a valid JSON event into a ClickEvent', () => {
    expect(ingest(record(json(validEvent)), ing)).toEqual({ kind: 'event', event: validEvent });
  });

  it('fills the optional fields a minimal event leaves out', () => {
    const minimal = { eventId: 'e', sessionId: 's', timestamp: NOW, type: 'page_view' };
    expect(ingest(record(json(minimal)), ing)).toEqual({
      kind: 'event',
      event: { ...minimal, userId: null, page: null, durationMs: null, value: null, properties: {} },
    });
  });

  it('accepts unknown event types (mapped to "other" downstream, not here)', () => {
    const r = ingest(record(json({ ...validEvent, type: 'wishlist_share' })), ing);
    expect(r.kind === 'event' && r.event.type).toBe('wishlist_share');
  });

  it('ignores extra top-level fields', () => {
    expect(ingest(record(json({ ...validEvent, trackerVersion: 7 })), ing)).toEqual({ kind: 'event', event: validEvent });
  });
});

describe('ingest: one dead letter per bad input kind', () => {
  const ing = ingestion();
  const cases: [string, Buffer, string, RegExp][] = [
    ['bytes that are not JSON', Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x13]), 'not_json', /not valid UTF-8/],
    ['text that is not JSON', Buffer.from('{"eventId": "e-1",'), 'not_json', /value is not JSON/],
    ['JSON that is not an object', json([validEvent]), 'not_object', /JSON an array, not an object/],
    ['JSON null', Buffer.from('null'), 'not_object', /JSON null/],
    ['missing sessionId', json({ ...validEvent, sessionId: undefined }), 'missing_field', /^sessionId is missing/],
    ['empty sessionId', json({ ...validEvent, sessionId: '' }), 'missing_field', /^sessionId is empty/],
    ['sessionId of the wrong type', json({ ...validEvent, sessionId: { id: 1 } }), 'wrong_type', /^sessionId must be a string or an integer, got an object/],
    ['timestamp of the wrong type', json({ ...validEvent, timestamp: 'yesterday' }), 'wrong_type', /^timestamp must be a number \(ms since the epoch\), got a string/],
    ['durationMs of the wrong type', json({ ...validEvent, durationMs: '3s' }), 'wrong_type', /^durationMs must be a number or null/],
    ['timestamp in 2099', json({ ...validEvent, timestamp: Date.UTC(2099, 0, 1) }), 'timestamp_future', /2099-01-01T00:00:00.000Z is more than 300000 ms/],
    ['timestamp before the horizon', json({ ...validEvent, timestamp: Date.UTC(1999, 0, 1) }), 'timestamp_too_old', /before ingestion.timestamps.notBefore/],
    ['a negative duration', json({ ...validEvent, durationMs: -5 }), 'invalid_value', /must not be negative/],
    ['too many properties', json({ ...validEvent, properties: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }), 'too_many_properties', /65 entries; the limit is 64/],
    ['a string over the length limit', json({ ...validEvent, page: 'x'.repeat(4097) }), 'string_too_long', /^page is 4097 characters long; the limit is 4096/],
    ['empty value', Buffer.alloc(0), 'empty_value', /0 bytes/],
    ['a value over the size limit', json({ ...validEvent, properties: { blob: 'x'.repeat(1_048_576) } }), 'too_large', /the limit is 1048576 \(ingestion.limits.maxMessageBytes\)/],
  ];
  for (const [what, value, reason, message] of cases) {
    it(`${what} → ${reason}`, () => {
      const r = ingest(record(value), ing);
      expect(deadReason(r)).toBe(reason);
      expect(r.kind === 'dead' && r.message).toMatch(message);
    });
  }

  it('a tombstone (null value) is skipped, not dead-lettered', () => {
    expect(ingest(record(null), ing)).toEqual({ kind: 'tombstone' });
  });

  it('hints at seconds when a timestamp in seconds is read as ms', () => {
    const r = ingest(record(json({ ...validEvent, timestamp: Math.floor(NOW / 1000) })), ing);
    expect(deadReason(r)).toBe('timestamp_too_old');
    expect(r.kind === 'dead' && r.message).toMatch(/looks like seconds: set ingestion.mapping.timestamp.unit to s/);
  });

  it('applies configured limits and skew, not only the defaults', () => {
    const strict = ingestion({ limits: { maxMessageBytes: 300 }, timestamps: { maxFutureSkewMs: 0, maxAgeMs: 3_600_000 } });
    expect(deadReason(ingest(record(json({ ...validEvent, properties: { a: 'x'.repeat(300) } })), strict))).toBe('too_large');
    expect(deadReason(ingest(record(json({ ...validEvent, properties: {}, timestamp: NOW + 1 })), strict))).toBe('timestamp_future');
    expect(deadReason(ingest(record(json({ ...validEvent, properties: {}, timestamp: NOW - 3_600_001 })), strict))).toBe('timestamp_too_old');
    expect(ingest(record(json({ ...validEvent, properties: {}, timestamp: NOW })), strict).kind).toBe('event');
  });

  it('dead-letters a missing eventId unless ingestion.eventIdFallback is offset, which derives a stable id', () => {
    const noId = json({ ...validEvent, eventId: undefined });
    expect(deadReason(ingest(record(noId), ingestion()))).toBe('missing_field');
    const r = ingest(record(noId, { topic: 'clicks', partition: 3, offset: 1234n }), ingestion({ eventIdFallback: 'offset' }));
    expect(r.kind === 'event' && r.event.eventId).toBe('clicks-3-1234');
  });
});

describe('ingest: Avro', () => {
  const current = clickEventType();

  it('reads raw Avro written with the ClickEvent schema', () => {
    const ing = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    expect(ingest(record(current.toBuffer(validEvent)), ing)).toEqual({ kind: 'event', event: validEvent });
  });

  it('schema evolution: an older writer schema without the newer fields reads with their defaults', () => {
    const v0 = fixtureType('click-event-v0.avsc');
    const ing = ingestion({ format: 'avro', writerSchema: 'click-event-v0.avsc' });
    const old = { eventId: 'e-0', sessionId: 's-0', userId: null, timestamp: NOW - 1000, type: 'search' };
    expect(ingest(record(v0.toBuffer(old)), ing)).toEqual({
      kind: 'event',
      event: { ...old, page: null, durationMs: null, value: null, properties: {} },
    });
  });

  it('Confluent wire format: picks the writer schema by id, old and new side by side', () => {
    const ing = ingestion({ format: 'confluent', schemas: { '7': 'click-event-v0.avsc', '8': '../../../schemas/click-event.avsc' } });
    const v0 = fixtureType('click-event-v0.avsc');
    const old = { eventId: 'e-0', sessionId: 's-0', userId: 'u', timestamp: NOW, type: 'login' };
    const r7 = ingest(record(confluentFrame(7, v0.toBuffer(old))), ing);
    const r8 = ingest(record(confluentFrame(8, current.toBuffer(validEvent))), ing);
    expect(r7).toEqual({ kind: 'event', event: { ...old, page: null, durationMs: null, value: null, properties: {} } });
    expect(r8).toEqual({ kind: 'event', event: validEvent });
  });

  it('Avro with an unknown schema id → unknown_schema_id, naming the configured ids', () => {
    const ing = ingestion({ format: 'confluent', schemas: { '8': '../../../schemas/click-event.avsc' } });
    const r = ingest(record(confluentFrame(9, current.toBuffer(validEvent))), ing);
    expect(deadReason(r)).toBe('unknown_schema_id');
    expect(r.kind === 'dead' && r.message).toBe('schema id 9 has no writer schema in ingestion.schemas (configured ids: 8).');
  });

  it('Confluent value without the magic byte → bad_magic_byte', () => {
    const ing = ingestion({ format: 'confluent', schemas: { '8': '../../../schemas/click-event.avsc' } });
    expect(deadReason(ingest(record(json(validEvent)), ing))).toBe('bad_magic_byte');
    expect(deadReason(ingest(record(Buffer.from([0, 0, 0])), ing))).toBe('avro_decode_error');
  });

  it('truncated Avro → avro_decode_error, raw and Confluent', () => {
    const body = current.toBuffer(validEvent);
    const raw = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    const conf = ingestion({ format: 'confluent', schemas: { '8': '../../../schemas/click-event.avsc' } });
    const r = ingest(record(body.subarray(0, body.length - 3)), raw);
    expect(deadReason(r)).toBe('avro_decode_error');
    expect(r.kind === 'dead' && r.message).toMatch(/does not match writer schema .*click-event.avsc/);
    expect(deadReason(ingest(record(confluentFrame(8, body.subarray(0, 10))), conf))).toBe('avro_decode_error');
  });

  it('Avro with trailing bytes → avro_decode_error', () => {
    const raw = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    const r = ingest(record(Buffer.concat([current.toBuffer(validEvent), Buffer.from([1, 2])])), raw);
    expect(r.kind === 'dead' && r.message).toMatch(/2 trailing bytes/);
  });

  it('a record claiming 2^40 map entries is rejected at once instead of stalling the partition', () => {
    const raw = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    const head = current.toBuffer({ ...validEvent, properties: {} });
    // Replace the final empty-map block count (0) with a huge one: the zigzag varint of 2^40.
    const hostile = Buffer.concat([head.subarray(0, head.length - 1), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x40]), Buffer.from('ab')]);
    const started = process.hrtime.bigint();
    const r = ingest(record(hostile), raw);
    expect(deadReason(r)).toBe('avro_decode_error');
    expect(r.kind === 'dead' && r.message).toMatch(/map block of 1099511627776 items at offset \d+ cannot fit in the 2 bytes left/);
    // Not a timing assertion on speed, only a guard against the unbounded loop: a minute would mean it hangs.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(60);
  });

  it('passes Avro values through the same validation as JSON', () => {
    const raw = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    const r = ingest(record(current.toBuffer({ ...validEvent, timestamp: Date.UTC(2099, 0, 1) })), raw);
    expect(deadReason(r)).toBe('timestamp_future');
  });
});

describe('ingest: a foreign-schema stream through a mapping given only in config', () => {
  const mapping = {
    eventId: 'id',
    sessionId: 'session',
    userId: 'user.id',
    timestamp: { path: 'ts', unit: 's' as const },
    type: 'event.action',
    page: 'event.screen',
    properties: 'attrs',
  };
  const foreign = (i: number) => ({
    id: `x-${i}`,
    session: `sess-${i % 3}`,
    ts: (NOW - 10_000 + i) / 1000,
    event: { action: i % 2 === 0 ? 'view' : 'tap', screen: i % 4 === 0 ? null : `screen-${i}` },
    user: i % 5 === 0 ? null : { id: 1000 + i },
    attrs: { os: 'android' },
  });
  const expected = (i: number) => ({
    eventId: `x-${i}`,
    sessionId: `sess-${i % 3}`,
    userId: i % 5 === 0 ? null : String(1000 + i),
    timestamp: NOW - 10_000 + i,
    type: i % 2 === 0 ? 'view' : 'tap',
    page: i % 4 === 0 ? null : `screen-${i}`,
    durationMs: null,
    value: null,
    properties: { os: 'android' },
  });

  it('JSON: nested fields and seconds timestamps become ClickEvents', () => {
    const ing = ingestion({ mapping });
    const results = Array.from({ length: 20 }, (_, i) => ingest(record(json(foreign(i))), ing));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ kind: 'event', event: expected(i) })));
  });

  it('Confluent Avro: the writer schema is read as written and the mapping picks the fields', () => {
    const type = fixtureType('foreign-click.avsc');
    const ing = ingestion({ format: 'confluent', schemas: { '42': 'foreign-click.avsc' }, mapping });
    const results = Array.from({ length: 20 }, (_, i) => ingest(record(confluentFrame(42, type.toBuffer(foreign(i)))), ing));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ kind: 'event', event: expected(i) })));
  });

  it('64-bit ids beyond 2^53 keep every digit instead of dead-lettering the record', () => {
    const type = parseIngestSchema(JSON.parse(readFileSync(`${FIXTURE_SCHEMAS}foreign-click.avsc`, 'utf8')));
    const ing = ingestion({ format: 'avro', writerSchema: 'foreign-click.avsc', mapping });
    const r = ingest(record(type.toBuffer({ ...foreign(1), user: { id: 2n ** 62n + 1n } })), ing);
    expect(r.kind === 'event' && r.event.userId).toBe('4611686018427387905');
    // Longs within 2^53 still come out as numbers, through the resolver too.
    const raw = ingestion({ format: 'avro', writerSchema: '../../../schemas/click-event.avsc' });
    expect(ingest(record(clickEventType().toBuffer(validEvent)), raw)).toEqual({ kind: 'event', event: validEvent });
  });

  it('per topic: only the foreign topic uses the mapping', () => {
    const ing = ingestion({ perTopic: { 'legacy-clicks': { mapping } } });
    expect(ingest(record(json(foreign(1)), { topic: 'legacy-clicks' }), ing)).toEqual({ kind: 'event', event: expected(1) });
    expect(ingest(record(json(validEvent), { topic: 'clicks' }), ing)).toEqual({ kind: 'event', event: validEvent });
    const r = ingest(record(json(foreign(1)), { topic: 'clicks' }), ing);
    expect(r.kind === 'dead' && r.message).toBe('eventId is missing; every event needs one (or set ingestion.eventIdFallback to hash or offset).');
  });

  it('a session id taken from the record key', () => {
    const ing = ingestion({ mapping: { sessionId: '$key' } });
    const { sessionId: _, ...withoutSession } = validEvent;
    expect(ingest(record(json(withoutSession), { key: Buffer.from('sess-from-key') }), ing)).toEqual({ kind: 'event', event: { ...validEvent, sessionId: 'sess-from-key' } });
    const r = ingest(record(json(withoutSession), { key: null }), ing);
    expect(r.kind === 'dead' && r.message).toBe('the record key (mapped to sessionId) is missing; every event needs one.');
  });

  it('names the mapped source field in messages', () => {
    const ing = ingestion({ mapping });
    const r = ingest(record(json({ ...foreign(1), session: undefined })), ing);
    expect(r.kind === 'dead' && r.message).toBe('session (mapped to sessionId) is missing; every event needs one.');
  });

  it('ISO-8601 timestamps with unit iso', () => {
    const ing = ingestion({ mapping: { timestamp: { path: 'at', unit: 'iso' } } });
    const base = { ...validEvent, timestamp: undefined };
    const at = (s: string) => ingest(record(json({ ...base, at: s })), ing);
    const ok = (r: IngestResult) => (r.kind === 'event' ? r.event.timestamp : r.kind);
    expect(ok(at('2026-11-22T11:59:00Z'))).toBe(NOW - 60_000);
    expect(ok(at('2026-11-22T12:59:00.250+01:00'))).toBe(NOW - 60_000 + 250);
    expect(ok(at('2026-11-22 11:59:00'))).toBe(NOW - 60_000);
    expect(deadReason(at('2026-02-30T00:00:00Z'))).toBe('invalid_value');
    expect(deadReason(at('last tuesday'))).toBe('invalid_value');
    expect(deadReason(ingest(record(json({ ...base, at: NOW })), ing))).toBe('wrong_type');
  });
});

describe('toIngestRecord', () => {
  it('carries what a kafkajs batch message holds, and ingest reads it', () => {
    const message = { offset: '41', key: Buffer.from('k'), value: json(validEvent), timestamp: '1763812800000', attributes: 0, headers: { h: 'v' } };
    const rec = toIngestRecord('clicks', 2, message);
    expect(rec).toEqual({ topic: 'clicks', partition: 2, offset: 41n, key: message.key, value: message.value, headers: { h: 'v' }, timestamp: '1763812800000' });
    expect(ingest(rec, ingestion())).toEqual({ kind: 'event', event: validEvent });
  });
});
