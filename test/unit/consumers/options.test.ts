import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { ingestionDefaults, parseIngestionOptions } from '../../../src/consumers/options.ts';
import { compileIngestion } from '../../../src/consumers/ingest.ts';
import { FIXTURE_SCHEMAS } from './fixtures.ts';

/** The lines of the UserError message parseIngestionOptions throws for `raw`. */
function problems(raw: unknown, root?: string): string[] {
  try {
    parseIngestionOptions(raw, root);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('CONFIG_INVALID');
    expect((err as UserError).exitCode).toBe(2);
    return (err as Error).message.split('\n').slice(1).map((l) => l.trim());
  }
  throw new Error('expected the options to be rejected');
}

describe('ingestion options', () => {
  it('fills every default when nothing is configured', () => {
    expect(parseIngestionOptions(undefined)).toEqual({ ...ingestionDefaults, perTopic: {} });
    expect(ingestionDefaults.limits.maxMessageBytes).toBe(1_048_576);
    expect(ingestionDefaults.timestamps.notBefore).toBe(Date.parse('2000-01-01T00:00:00Z'));
  });

  it('keeps the defaults of the limits a user leaves out', () => {
    const o = parseIngestionOptions({ limits: { maxProperties: 8 } });
    expect(o.limits).toEqual({ ...ingestionDefaults.limits, maxProperties: 8 });
  });

  it('accepts notBefore as an ISO date', () => {
    expect(parseIngestionOptions({ timestamps: { notBefore: '2013-10-27' } }).timestamps.notBefore).toBe(Date.UTC(2013, 9, 27));
  });

  it('names the path and the rule', () => {
    expect(problems({ mapping: { timestamp: { path: 'ts', unit: 'sec' } } })).toEqual(['ingestion.mapping.timestamp.unit must be one of ms, s, iso']);
    expect(problems({ format: 'xml' })).toEqual(['ingestion.format must be one of json, avro, confluent']);
    expect(problems({ limits: { maxMessageBytes: 0 } })).toEqual(['ingestion.limits.maxMessageBytes must be greater than 0']);
    expect(problems({ limits: { maxStringLength: 1.5 } })).toEqual(['ingestion.limits.maxStringLength must be an integer']);
    expect(problems({ timestamps: { notBefore: 'yesterday' } })).toEqual(['ingestion.timestamps.notBefore must be ms since the epoch or an ISO-8601 date, got "yesterday"']);
  });

  it('lists every problem, under the root the caller names', () => {
    expect(problems({ mapping: { sesionId: 'session', type: 'event..action', page: 3 } }, 'config.ingestion')).toEqual([
      'config.ingestion.mapping.type must be a dotted path like event.action (no empty segments)',
      'config.ingestion.mapping.page must be a dotted path like event.action, a list of keys, or { path }',
      'config.ingestion.mapping has unknown option sesionId (ClickEvent fields: eventId, sessionId, userId, timestamp, type, page, durationMs, value, properties)',
    ]);
  });

  it('requires a writer schema for avro and schema ids for confluent, also per topic', () => {
    expect(problems({ format: 'avro' })).toEqual(['ingestion.writerSchema is required when the format is avro (path of the producer’s .avsc file)']);
    expect(problems({ format: 'confluent' })).toEqual([
      'ingestion.schemas must map at least one schema id to an .avsc file when the format is confluent, e.g. { "1": "schemas/clicks-v1.avsc" }, or set --schema-registry-url to look the ids up',
    ]);
    expect(problems({ perTopic: { legacy: { format: 'avro' } } })).toEqual([
      'ingestion.perTopic.legacy.writerSchema is required when the format is avro (path of the producer’s .avsc file)',
    ]);
    expect(problems({ format: 'confluent', schemas: { '1': 'a.avsc' }, perTopic: { other: { schemas: {} } } })).toEqual([
      'ingestion.perTopic.other.schemas must map at least one schema id to an .avsc file when the format is confluent, e.g. { "1": "schemas/clicks-v1.avsc" }, or set --schema-registry-url to look the ids up',
    ]);
    expect(problems({ format: 'confluent', schemas: { v1: 'a.avsc' } })).toEqual(['ingestion.schemas.v1 is not a schema id (keys are decimal integers)']);
    // with a schema registry, confluent needs no configured ids
    expect(parseIngestionOptions({ format: 'confluent' }, 'ingestion', { schemaRegistry: true }).format).toBe('confluent');
  });

  it('rejects a writer schema file that is missing, invalid, or unreadable as ClickEvent, naming the option', () => {
    const compile = (raw: unknown) => () => compileIngestion(parseIngestionOptions(raw), { baseDir: FIXTURE_SCHEMAS });
    expect(compile({ format: 'avro', writerSchema: 'nope.avsc' })).toThrow(/^ingestion.writerSchema: cannot read writer schema .*nope.avsc: ENOENT/);
    expect(compile({ format: 'avro', writerSchema: '../../unit/consumers/fixtures.ts' })).toThrow(/^ingestion.writerSchema: .*fixtures.ts is not a valid Avro schema/);
    expect(compile({ format: 'confluent', schemas: { '3': 'incompatible.avsc' } })).toThrow(
      /^ingestion.schemas.3: writer schema .*incompatible.avsc cannot be read as journeylens.ClickEvent \(.*sessionId.*\)\. .*or set ingestion.mapping to read it as written\.$/,
    );
    expect(compile({ perTopic: { t: { format: 'avro', writerSchema: 'incompatible.avsc' } } })).toThrow(/^ingestion.perTopic.t.writerSchema: /);
    // With a mapping the same schema is read as written.
    expect(compile({ format: 'avro', writerSchema: 'incompatible.avsc', mapping: { sessionId: 'eventId' } })).not.toThrow();
  });
});
