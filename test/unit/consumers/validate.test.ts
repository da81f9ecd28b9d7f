import { describe, expect, it } from 'vitest';
import { compileMapping, identityMapping } from '../../../src/consumers/field-mapping.ts';
import { ingestionDefaults, parseIngestionOptions } from '../../../src/consumers/options.ts';
import { type ValidationRules, validate } from '../../../src/consumers/validate.ts';
import { NOW, validEvent } from './fixtures.ts';

const rules: ValidationRules = { limits: ingestionDefaults.limits, timestamps: ingestionDefaults.timestamps, mapping: identityMapping };
const secondsRules: ValidationRules = { ...rules, mapping: compileMapping(parseIngestionOptions({ mapping: { timestamp: { unit: 's' } } }).mapping) };
const check = (fields: Record<string, unknown>, r: ValidationRules = rules) => validate({ ...validEvent, ...fields }, r, { now: NOW });

describe('validate', () => {
  it('accepts integer ids as decimal strings (numeric ids are common), not fractional ones', () => {
    expect(check({ sessionId: 1234, userId: 56 })).toMatchObject({ ok: true, event: { sessionId: '1234', userId: '56' } });
    expect(check({ sessionId: 1.5 })).toMatchObject({ ok: false, reason: 'wrong_type' });
  });

  it('reads an empty or null userId as no user', () => {
    expect(check({ userId: '' })).toMatchObject({ ok: true, event: { userId: null } });
    expect(check({ userId: null })).toMatchObject({ ok: true, event: { userId: null } });
  });

  it('stringifies scalar properties, drops null ones and rejects nested ones', () => {
    expect(check({ properties: { n: 3, b: false, s: 'x', z: null } })).toMatchObject({ ok: true, event: { properties: { n: '3', b: 'false', s: 'x' } } });
    expect(check({ properties: { deep: { a: 1 } } })).toEqual({ ok: false, reason: 'wrong_type', message: 'properties.deep must be a string, number or boolean, got an object.' });
    expect(check({ properties: ['a'] })).toMatchObject({ ok: false, reason: 'wrong_type' });
  });

  it('keeps a "__proto__" property key as an ordinary key', () => {
    const properties = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    const r = check({ properties });
    expect(r.ok && Object.keys(r.event.properties)).toEqual(['__proto__', 'a']);
    expect(r.ok && Object.getPrototypeOf(r.event.properties)).toBe(Object.prototype);
  });

  it('rounds fractional durations and second timestamps to whole ms', () => {
    expect(check({ durationMs: 12.6 })).toMatchObject({ ok: true, event: { durationMs: 13 } });
    expect(check({ timestamp: 1_763_812_700.1234 }, secondsRules)).toMatchObject({ ok: true, event: { timestamp: 1_763_812_700_123 } });
  });

  it('rejects non-finite and unrepresentable numbers', () => {
    expect(check({ value: Number.POSITIVE_INFINITY })).toMatchObject({ ok: false, reason: 'invalid_value' });
    expect(check({ timestamp: 1e300 })).toMatchObject({ ok: false, reason: 'invalid_value', message: 'timestamp 1e+300 is not a representable date.' });
  });

  it('checks property keys and values against the string length limit', () => {
    const tight: ValidationRules = { ...rules, limits: { ...rules.limits, maxStringLength: 4 } };
    expect(check({ type: 'tap', page: null, eventId: 'e', sessionId: 's', userId: null, properties: { abcde: 'x' } }, tight)).toMatchObject({ ok: false, reason: 'string_too_long' });
    expect(check({ type: 'tap', page: null, eventId: 'e', sessionId: 's', userId: null, properties: { k: 'vvvvv' } }, tight)).toEqual({
      ok: false,
      reason: 'string_too_long',
      message: 'properties.k is 5 characters long; the limit is 4 (ingestion.limits.maxStringLength).',
    });
  });

  it('accepts timestamps up to the skew ahead of the clock, not beyond', () => {
    const skew = ingestionDefaults.timestamps.maxFutureSkewMs;
    expect(check({ timestamp: NOW + skew }).ok).toBe(true);
    expect(check({ timestamp: NOW + skew + 1 })).toMatchObject({ ok: false, reason: 'timestamp_future' });
  });

  it('suggests unit iso for an ISO string where ms are expected', () => {
    expect(check({ timestamp: '2026-11-22T12:00:00Z' })).toMatchObject({ ok: false, reason: 'wrong_type', message: expect.stringContaining('set ingestion.mapping.timestamp.unit to iso') });
  });
});
