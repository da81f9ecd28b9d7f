// Shared inputs for the ingestion tests: a fixed clock, writer schemas and record builders.
import { fileURLToPath } from 'node:url';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type IngestRecord } from '../../../src/contracts/ingest-record.ts';
import { type IngestionOptionsInput, parseIngestionOptions } from '../../../src/consumers/options.ts';
import { type Ingestion, compileIngestion } from '../../../src/consumers/ingest.ts';

export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
export const FIXTURE_SCHEMAS = fileURLToPath(new URL('../../fixtures/schemas/', import.meta.url));

export const validEvent: ClickEvent = {
  eventId: 'e-1',
  sessionId: 's-1',
  userId: 'u-1',
  timestamp: NOW - 60_000,
  type: 'add_to_cart',
  page: '/product/42',
  durationMs: 3500,
  value: 19.99,
  properties: { campaign: 'winter' },
};

let offset = 0;
export function record(value: Buffer | string | null, overrides: Partial<IngestRecord> = {}): IngestRecord {
  return {
    topic: 'clicks',
    partition: 0,
    offset: BigInt(offset++),
    key: Buffer.from('s-1'),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: {},
    ...overrides,
  };
}

export const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Options as a user writes them, compiled with the fixed clock and the fixture folder as base. */
export function ingestion(options: IngestionOptionsInput = {}): Ingestion {
  return compileIngestion(parseIngestionOptions(options), { now: () => NOW, baseDir: FIXTURE_SCHEMAS });
}
