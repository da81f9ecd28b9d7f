// The unit-level half of the reconciliation requirement: in a mixed stream, every record is
// accounted for exactly once, with the reason it was built to have.
import { describe, expect, it } from 'vitest';
import { confluentFrame } from '../../../src/consumers/decode.ts';
import { ingest } from '../../../src/consumers/ingest.ts';
import { type IngestRecord } from '../../../src/contracts/ingest-record.ts';
import { clickEventType } from '../../../src/contracts/schemas.ts';
import { DLQ_HEADERS, buildDeadLetter } from '../../../src/sinks/dead-letter.ts';
import { NOW, ingestion, json, validEvent } from './fixtures.ts';

const body = (i: number) => clickEventType().toBuffer({ ...validEvent, eventId: `e-${i}`, timestamp: NOW - i });

/** Each kind of input and the outcome it must have: 'event', 'tombstone' or a DLQ reason. */
const KINDS: [string, (i: number) => Buffer | null][] = [
  ['event', (i) => confluentFrame(1, body(i))],
  ['tombstone', () => null],
  ['not_json', () => Buffer.from([0xc3, 0x28])],
  ['not_object', () => Buffer.from('[1,2]')],
  ['missing_field', () => json({ ...validEvent, sessionId: undefined })],
  ['wrong_type', () => json({ ...validEvent, timestamp: 'noon' })],
  ['timestamp_future', () => json({ ...validEvent, timestamp: Date.UTC(2099, 0, 1) })],
  ['empty_value', () => Buffer.alloc(0)],
  ['too_large', () => Buffer.alloc(2049, 0x20)],
  ['unknown_schema_id', (i) => confluentFrame(99, body(i))],
  ['avro_decode_error', (i) => confluentFrame(1, body(i).subarray(0, 12))],
];

describe('reconciliation of a mixed stream', () => {
  it('accounts for every offset exactly once: events + tombstones + dead letters per reason = input', () => {
    // Confluent on topic "avro-clicks", JSON on "json-clicks": bad records of both kinds in one run.
    const ing = ingestion({
      limits: { maxMessageBytes: 2048 },
      perTopic: { 'avro-clicks': { format: 'confluent', schemas: { '1': '../../../schemas/click-event.avsc' } } },
    });
    const total = 20_000;
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const expected = new Map<string, number>();
    const seen = new Map<string, number>();
    const offsets = new Set<bigint>();
    for (let i = 0; i < total; i++) {
      // 95% valid, 5% spread over the bad kinds.
      const [kind, make] = rand() < 0.95 ? KINDS[0]! : KINDS[1 + Math.floor(rand() * (KINDS.length - 1))]!;
      const avro = kind === 'event' || kind === 'unknown_schema_id' || kind === 'avro_decode_error';
      const rec: IngestRecord = { topic: avro ? 'avro-clicks' : 'json-clicks', partition: i % 3, offset: BigInt(i), key: Buffer.from(`k${i}`), value: make(i), headers: { n: String(i) } };
      expected.set(kind, (expected.get(kind) ?? 0) + 1);
      const r = ingest(rec, ing);
      const outcome = r.kind === 'dead' ? r.reason : r.kind;
      expect(outcome, `offset ${i} (${kind})`).toBe(kind);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      offsets.add(rec.offset);
      if (r.kind === 'dead') {
        const dl = buildDeadLetter(rec, r.reason, r.message);
        expect(dl.value).toBe(rec.value);
        expect(dl.headers?.[DLQ_HEADERS.errorCode]).toBe(kind);
        expect(dl.headers?.[DLQ_HEADERS.sourceOffset]).toBe(String(rec.offset));
      }
    }
    expect(offsets.size).toBe(total);
    expect(seen).toEqual(expected);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(total);
    // Every kind occurred, so no reason went untested by chance.
    expect(seen.size).toBe(KINDS.length);
  });
});
