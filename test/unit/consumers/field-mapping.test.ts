import { describe, expect, it } from 'vitest';
import { applyMapping, compileMapping, describeSource, identityMapping, readPath } from '../../../src/consumers/field-mapping.ts';
import { parseIngestionOptions } from '../../../src/consumers/options.ts';

const compile = (mapping: unknown) => compileMapping(parseIngestionOptions({ mapping }).mapping);

describe('field mapping', () => {
  it('is the identity by default', () => {
    expect(identityMapping.identity).toBe(true);
    expect(identityMapping.timestampUnit).toBe('ms');
    const record = { eventId: 'e', sessionId: 's', timestamp: 1, type: 't', extra: 1 };
    // Only ClickEvent fields come out; the ones the record lacks are undefined for validation to judge.
    expect(applyMapping(record, identityMapping)).toStrictEqual({
      eventId: 'e',
      sessionId: 's',
      userId: undefined,
      timestamp: 1,
      type: 't',
      page: undefined,
      durationMs: undefined,
      value: undefined,
      properties: undefined,
    });
  });

  it('reads dotted paths, key lists (keys with dots) and the { path, unit } form', () => {
    const m = compile({ sessionId: 'ctx.session.id', type: ['event.name'], page: { path: 'where' }, timestamp: { path: 'ts', unit: 's' } });
    expect(m.identity).toBe(false);
    expect(m.timestampUnit).toBe('s');
    const fields = applyMapping({ ctx: { session: { id: 'abc' } }, 'event.name': 'tap', where: '/x', ts: 12 }, m);
    expect(fields).toMatchObject({ sessionId: 'abc', type: 'tap', page: '/x', timestamp: 12, eventId: undefined });
  });

  it('a unit alone keeps the field name but is no longer the identity (Avro is then read as written)', () => {
    const m = compile({ timestamp: { unit: 'iso' } });
    expect(m.paths.timestamp).toEqual(['timestamp']);
    expect(m.identity).toBe(false);
  });

  it('follows own properties only, and array indexes', () => {
    expect(readPath({ a: [{ b: 1 }] }, ['a', '0', 'b'])).toBe(1);
    expect(readPath({}, ['constructor'])).toBeUndefined();
    expect(readPath({ a: 'str' }, ['a', 'length'])).toBeUndefined();
    expect(readPath({ a: Buffer.from('x') }, ['a', '0'])).toBeUndefined();
    expect(readPath({ a: null }, ['a', 'b'])).toBeUndefined();
  });

  it('$key reads the Kafka record key as UTF-8', () => {
    const m = compile({ sessionId: '$key' });
    expect(applyMapping({ sessionId: 'in-value', $key: 'field' }, m, Buffer.from('sess-7')).sessionId).toBe('sess-7');
    expect(applyMapping({}, m, null).sessionId).toBeUndefined();
    expect(describeSource('sessionId', m)).toBe('the record key (mapped to sessionId)');
  });

  it('names the source field in messages', () => {
    const m = compile({ sessionId: 'ctx.session' });
    expect(describeSource('sessionId', m)).toBe('ctx.session (mapped to sessionId)');
    expect(describeSource('type', m)).toBe('type');
  });
});
