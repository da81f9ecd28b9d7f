// History through the user's ingestion config: the same `ingest` as live traffic, for files
// (JSON Lines, Avro container) — the topic form runs in test/integration/own-clickstream.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileIngestion } from '../../../src/consumers/ingest.ts';
import { parseIngestionOptions } from '../../../src/consumers/options.ts';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { defaultImageSpec, defaultSessionizationSpec } from '../../../src/journey/image-spec.ts';
import { loadPartialDataSpec, parsePartialDataSpec } from '../../../src/history/data-spec.ts';
import { defaultIngestion, emptyCounts, parseTopicPosition, readHistory, sampleRecords, summarizeCounts } from '../../../src/history/history-source.ts';
import { proposeConfig } from '../../../src/history/propose-config.ts';
import { VocabularyCounter, chooseVocabulary } from '../../../src/history/vocabulary.ts';
import { writeSimulationFiles } from '../../../src/sim/files.ts';
import { foreignClickstream } from '../../helpers/foreign-clickstream.ts';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jl-history-'));
  await writeSimulationFiles({ sessions: 40, seed: 3, outDir: join(dir, 'sim') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(path: string, ingestion = defaultIngestion()) {
  const counts = emptyCounts();
  const events: ClickEvent[] = [];
  for await (const h of readHistory({ kind: 'file', path }, ingestion, counts)) events.push(h.event);
  return { events, counts };
}

describe('reading history', () => {
  it('reads the Avro container file as the JSON Lines file: the same events', async () => {
    const a = await all(join(dir, 'sim', 'events.jsonl'));
    const b = await all(join(dir, 'sim', 'events.avro'));
    expect(a.events.length).toBeGreaterThan(100);
    expect(b.events).toEqual(a.events);
    expect(a.counts).toMatchObject({ records: a.events.length, events: a.events.length, dead: 0 });
  });

  it('maps a foreign file with the config, counts consent and unusable lines with their line numbers', async () => {
    const file = join(dir, 'foreign.jsonl');
    writeFileSync(
      file,
      [
        { visit: 7, shopper: 3, when: 1_780_000_000, action: 'carts', ok: true },
        { visit: 7, shopper: 3, when: 1_780_000_060, action: 'orders', ok: 'no' },
        { visit: 7, shopper: 3, when: 'soon', action: 'carts', ok: true },
        'not json',
      ]
        .map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
        .join('\n'),
    );
    const ingestion = compileIngestion(
      parseIngestionOptions({ eventIdFallback: 'offset', consent: { path: 'ok', granted: [true] }, mapping: { sessionId: 'visit', userId: 'shopper', timestamp: { path: 'when', unit: 's' }, type: { field: 'action', values: { carts: 'add_to_cart' } } } }),
    );
    const { events, counts } = await all(file, ingestion);
    expect(events).toEqual([{ eventId: 'foreign.jsonl-0-1', sessionId: '7', userId: '3', timestamp: 1_780_000_000_000, type: 'add_to_cart', page: null, durationMs: null, value: null, properties: {} }]);
    expect(summarizeCounts(counts)).toBe(
      `4 records: 1 events, 1 without analytics consent (ingestion.consent; left out), 2 unusable: 1 wrong_type (first: ${file}:3: when (mapped to timestamp) must be a number (seconds since the epoch), got a string.); 1 not_json (first: ${file}:4: value is not JSON: Unexpected token 'o', "not json" is not valid JSON)`,
    );
  });

  it('parses --from/--until positions and names the option for a bad one', () => {
    expect(parseTopicPosition('earliest', '--from')).toEqual({ kind: 'earliest' });
    expect(parseTopicPosition('offset:42', '--from')).toEqual({ kind: 'offset', offset: 42n });
    expect(parseTopicPosition('1780000000000', '--until')).toEqual({ kind: 'time', ms: 1_780_000_000_000 });
    expect(parseTopicPosition('2026-06-01T00:00:00Z', '--until')).toEqual({ kind: 'time', ms: Date.UTC(2026, 5, 1) });
    expect(() => parseTopicPosition('yesterday', '--from')).toThrow(/^--from must be earliest, latest, offset:N/);
  });
});

// Issue 17, item 4: a partial spec.json was refused ("image.version must be 1").
describe('partial spec.json', () => {
  it('merges what it gives over the defaults, and says whether it named the vocabulary', () => {
    const p = parsePartialDataSpec(JSON.stringify({ image: { rows: 16 }, sessionization: { gapMs: 600_000 } }), 'spec.json');
    expect(p.spec.image).toEqual({ ...defaultImageSpec, rows: 16 });
    expect(p.spec.sessionization).toEqual({ ...defaultSessionizationSpec, gapMs: 600_000 });
    expect(p.eventTypesGiven).toBe(false);
    expect(parsePartialDataSpec(JSON.stringify({ image: { eventTypes: ['a', 'b'] } }), 'spec.json').eventTypesGiven).toBe(true);
    expect(parsePartialDataSpec('{}', 'spec.json').spec).toEqual({ image: defaultImageSpec, sessionization: defaultSessionizationSpec });
  });

  it('still names a wrong field and its rule', () => {
    expect(() => parsePartialDataSpec(JSON.stringify({ image: { rows: 0 } }), 'my-spec.json')).toThrow('my-spec.json.image.rows must be an integer from 1 to 1024, got 0.');
    expect(() => parsePartialDataSpec(JSON.stringify({ image: { colour: 1 } }), 'my-spec.json')).toThrow(/my-spec.json.image.colour is not an image spec field/);
    expect(() => parsePartialDataSpec(JSON.stringify({ image: { version: 2 } }), 'my-spec.json')).toThrow(/image.version must be 1, got 2/);
    expect(() => loadPartialDataSpec(join(dir, 'nope.json'), undefined)).toThrow(/--spec .*nope.json: no such file/);
  });
});

describe('vocabulary learned from the data', () => {
  const counter = (types: Record<string, number>, pages: string[] = []) => {
    const c = new VocabularyCounter();
    for (const [type, n] of Object.entries(types)) for (let i = 0; i < n; i++) c.add({ eventId: '', sessionId: 's', userId: null, timestamp: 0, type, page: pages[i % Math.max(1, pages.length)] ?? null, durationMs: null, value: null, properties: {} });
    return c;
  };

  it('keeps the default vocabulary while at most 5% of events fall in "other"', () => {
    const v = chooseVocabulary(counter({ page_view: 60, purchase: 36, share: 4 }), 8, false);
    expect(v).toMatchObject({ learned: false, pageBuckets: 8 });
    expect(v.otherShare).toBeCloseTo(0.04);
  });

  it('learns the most frequent types up to 99% coverage otherwise, and page columns from the categories', () => {
    const v = chooseVocabulary(counter({ clicks: 700, carts: 200, orders: 95, other: 3, rare: 2 }, ['/p/1', '/c/2', '/p/3']), 8, false);
    expect(v).toEqual({ eventTypes: ['clicks', 'carts', 'orders'], learned: true, otherShare: 0.005, pageBuckets: 2 });
    expect(chooseVocabulary(counter({ clicks: 10 }), 8, false).pageBuckets).toBe(0);
  });
});

describe('inspect: a proposed config from a sample', () => {
  it('finds session, user, time (seconds or ISO), type with its values, page, and no event id', () => {
    for (const time of ['s', 'iso'] as const) {
      const { records } = foreignClickstream({ users: 60, seed: 1, start: Date.UTC(2026, 0, 5), time });
      const p = proposeConfig(records);
      expect(p.ingestion).toEqual({
        format: 'json',
        eventIdFallback: 'hash',
        mapping: {
          timestamp: { path: 'when', unit: time },
          type: { field: 'action', values: { clicks: 'product_view', carts: 'add_to_cart', orders: 'purchase', search_q: 'search', help_req: 'support_contact' } },
          sessionId: 'visit',
          userId: 'shopper',
          page: 'aid',
        },
      });
      expect(p.typeValues.map(([v]) => v).sort()).toEqual(['carts', 'clicks', 'help_req', 'orders', 'search_q', 'wish']);
      // the proposal is a valid ingestion config
      expect(() => parseIngestionOptions(p.ingestion)).not.toThrow();
    }
  });

  it('proposes sessionKey userId when there is no session field, and keeps a unique id field', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: `ev-${i}`, user_id: i % 5, event_type: i % 3 ? 'view' : 'buy', ts: '2026-03-01T10:00:00Z' }));
    const p = proposeConfig(records);
    expect(p.ingestion).toMatchObject({ sessionKey: 'userId', mapping: { eventId: 'id', userId: 'user_id', timestamp: { path: 'ts', unit: 'iso' } } });
    expect(p.notes.join('\n')).toContain('no field looks like a session id');
  });

  it('samples the first records of a file', async () => {
    const s = await sampleRecords({ kind: 'file', path: join(dir, 'sim', 'events.avro') }, defaultIngestion(), 25);
    expect(s).toMatchObject({ read: 25, bad: 0 });
    expect(s.records[0]).toHaveProperty('sessionId');
  });
});
