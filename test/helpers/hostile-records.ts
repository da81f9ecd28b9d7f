// Record values a clickstream topic can carry when something upstream goes wrong: arbitrary
// bytes, arbitrary JSON, huge strings, deep nesting, NaN/Infinity/1e308/-0 written as numbers,
// Avro of another schema (raw and Confluent-framed), tombstones, and valid events with
// duplicates among them. Shared by the ingest property test and the processor fuzz on the broker.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avsc from 'avsc';
import fc from 'fast-check';
import { confluentFrame } from '../../src/consumers/decode.ts';
import { clickEventType } from '../../src/contracts/schemas.ts';

export interface HostileRecord {
  kind: string;
  key: string | null;
  value: Buffer | null;
}

const foreign = avsc.Type.forSchema(JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/schemas/foreign-click.avsc', import.meta.url)), 'utf8')) as avsc.Schema);
const tiny = avsc.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'n', type: 'long' }, { name: 's', type: 'string' }] });

/** Number literals as a producer may write them (NaN and Infinity are not JSON; 1e309 parses to Infinity). */
export const NUMBER_TOKENS = ['NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '1e309', '-0', '0', '5e-324', '9007199254740993', '-1', '1.5', '1e21'] as const;

export interface HostileOptions {
  /** Event times of the valid events are spread over [t0, t0 + 10 min). */
  t0: number;
  /** Largest value generated (huge strings, deep nesting); the broker's limit is about 1 MiB. */
  maxBytes: number;
}

export function hostileRecord(o: HostileOptions): fc.Arbitrary<HostileRecord> {
  const sessionId = fc.integer({ min: 0, max: 19 }).map((i) => `fz-s${i}`);
  // a small pool of ids: repeats within a session are duplicates
  const eventId = fc.integer({ min: 0, max: 299 }).map((i) => `fz-e${i}`);
  const type = fc.constantFrom('page_view', 'search', 'product_view', 'add_to_cart', 'checkout', 'purchase', 'tap');
  const valid = fc
    .record({ eventId, sessionId, userId: fc.option(fc.constantFrom('u1', 'u2'), { nil: null }), timestamp: fc.integer({ min: o.t0, max: o.t0 + 599_999 }), type, page: fc.option(fc.constant('/p/1'), { nil: null }), durationMs: fc.option(fc.nat(60_000), { nil: null }), value: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }), properties: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }) })
    .chain((ev) => fc.constantFrom('json', 'avro').map((enc) => ({ kind: `valid-${enc}`, key: ev.sessionId, value: enc === 'json' ? Buffer.from(JSON.stringify(ev)) : confluentFrame(1, clickEventType().toBuffer(ev)) })));
  const bytes = fc.uint8Array({ maxLength: 512 }).map((a) => ({ kind: 'bytes', key: null, value: Buffer.from(a) }));
  const anyJson = fc.jsonValue().map((v) => ({ kind: 'json', key: null, value: Buffer.from(JSON.stringify(v) ?? 'null') }));
  const anyField = fc.jsonValue({ maxDepth: 2 });
  const shaped = fc
    .record({ eventId: anyField, sessionId: anyField, userId: anyField, timestamp: anyField, type: anyField, page: anyField, durationMs: anyField, value: anyField, properties: anyField }, { requiredKeys: [] })
    .map((v) => ({ kind: 'shaped', key: null, value: Buffer.from(JSON.stringify(v)) }));
  const huge = fc
    .record({ field: fc.constantFrom('eventId', 'sessionId', 'type', 'page', 'prop-key', 'prop-value'), length: fc.integer({ min: 4_000, max: o.maxBytes - 512 }) })
    .map(({ field, length }) => {
      const s = 'x'.repeat(length);
      const ev: Record<string, unknown> = { eventId: 'h', sessionId: 'fz-huge', timestamp: o.t0, type: 'page_view', properties: {} };
      if (field === 'prop-key') ev.properties = { [s]: 'v' };
      else if (field === 'prop-value') ev.properties = { k: s };
      else ev[field] = s;
      return { kind: 'huge-string', key: null, value: Buffer.from(JSON.stringify(ev)) };
    });
  const deep = fc
    .record({ depth: fc.integer({ min: 50, max: Math.floor((o.maxBytes - 256) / 6) }), where: fc.constantFrom('root', 'properties', 'sessionId', 'timestamp'), shape: fc.constantFrom('array', 'object') })
    .map(({ depth, where, shape }) => {
      const nest = shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const text = where === 'root' ? nest : `{"eventId":"d","sessionId":"fz-deep","timestamp":${o.t0},"type":"page_view",${JSON.stringify(where)}:${nest}}`;
      return { kind: 'deep-nesting', key: null, value: Buffer.from(text) };
    });
  const numbers = fc
    .record({ field: fc.constantFrom('timestamp', 'durationMs', 'value', 'sessionId', 'properties'), token: fc.constantFrom(...NUMBER_TOKENS) })
    .map(({ field, token }) => {
      const base: Record<string, string> = { eventId: '"n"', sessionId: '"fz-num"', timestamp: String(o.t0), type: '"page_view"' };
      base[field] = field === 'properties' ? `{"k":${token}}` : token;
      return { kind: 'special-number', key: null, value: Buffer.from(`{${Object.entries(base).map(([k, v]) => `"${k}":${v}`).join(',')}}`) };
    });
  // Avro with NaN, Infinity and -0 in the double field: valid Avro, invalid events (or a -0 value)
  const avroNumbers = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, Number.MIN_VALUE).map((v) => ({
    kind: 'avro-special-number',
    key: 'fz-num',
    value: confluentFrame(1, clickEventType().toBuffer({ eventId: 'an', sessionId: 'fz-avro-num', userId: null, timestamp: o.t0, type: 'page_view', page: null, durationMs: null, value: v, properties: {} })),
  }));
  const wrongAvro = fc
    .record({ schema: fc.constantFrom('foreign', 'tiny'), framing: fc.constantFrom('raw', 'confluent-1', 'confluent-2', 'confluent-99'), n: fc.integer(), s: fc.string({ maxLength: 40 }) })
    .map(({ schema, framing, n, s }) => {
      const body = schema === 'foreign' ? foreign.toBuffer({ id: s, session: s, ts: n, event: { action: s, screen: null }, user: { id: n }, attrs: { [s]: s } }) : tiny.toBuffer({ n, s });
      const value = framing === 'raw' ? body : confluentFrame(Number(framing.split('-')[1]), body);
      return { kind: `wrong-avro-${framing}`, key: null, value };
    });
  const tombstone = fc.constant({ kind: 'tombstone', key: 'fz-tomb', value: null });
  return fc.oneof(
    { arbitrary: valid, weight: 6 },
    { arbitrary: bytes, weight: 2 },
    { arbitrary: anyJson, weight: 2 },
    { arbitrary: shaped, weight: 2 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: numbers, weight: 2 },
    { arbitrary: avroNumbers, weight: 1 },
    { arbitrary: wrongAvro, weight: 2 },
    { arbitrary: tombstone, weight: 1 },
  );
}
