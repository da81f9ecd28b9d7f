import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import {
  defaultImageSpec,
  defaultSessionizationSpec,
  imageColumns,
  imageWidth,
  parseDataSpec,
  parseImageSpec,
  sameImageSpec,
  serializeDataSpec,
  serializeImageSpec,
  validateImageSpec,
  validateSessionizationSpec,
} from '../../../src/journey/image-spec.ts';

describe('image spec', () => {
  it('has one column per event type, "other", the page buckets, dwell, gap and value', () => {
    const cols = imageColumns(defaultImageSpec);
    expect(cols).toHaveLength(imageWidth(defaultImageSpec));
    expect(cols.slice(defaultImageSpec.eventTypes.length)).toEqual(['other', ...Array.from({ length: 8 }, (_, i) => `page#${i}`), 'dwell', 'gap', 'value']);
  });

  it('round-trips through its serialised form, byte for byte', () => {
    const text = serializeImageSpec(defaultImageSpec);
    const back = parseImageSpec(text);
    expect(back).toEqual(defaultImageSpec);
    expect(serializeImageSpec(back)).toBe(text);
    // key order does not matter to the bytes
    const shuffled = Object.fromEntries(Object.entries(defaultImageSpec).reverse()) as typeof defaultImageSpec;
    expect(serializeImageSpec(shuffled)).toBe(text);
    expect(sameImageSpec(shuffled, defaultImageSpec)).toBe(true);
    expect(sameImageSpec({ ...defaultImageSpec, rows: 16 }, defaultImageSpec)).toBe(false);
  });

  it('round-trips a data spec and fills a missing section with the defaults', () => {
    const spec = { image: { ...defaultImageSpec, rowMode: 'buckets' as const, bucketMs: 86_400_000 }, sessionization: defaultSessionizationSpec };
    expect(parseDataSpec(serializeDataSpec(spec))).toEqual(spec);
    expect(parseDataSpec(JSON.stringify({ image: spec.image })).sessionization).toEqual(defaultSessionizationSpec);
  });

  it.each([
    [{ rows: 0 }, 'image.rows must be an integer from 1 to 1024, got 0.'],
    [{ rowMode: 'days' }, 'image.rowMode must be "steps" or "buckets", got "days".'],
    [{ eventTypes: [] }, 'image.eventTypes must be a list of 1 to 254 event type names, got [].'],
    [{ eventTypes: ['a', 'a'] }, 'image.eventTypes[1] repeats "a"; each type may appear once.'],
    [{ eventTypes: ['a', 'other'] }, 'image.eventTypes[1] is "other", which is reserved for the column of unknown types; remove it from the vocabulary.'],
    [{ pageBuckets: 300 }, 'image.pageBuckets must be an integer from 0 to 254, got 300. Use 0 to disable page columns.'],
    [{ dwellCapMs: -1 }, 'image.dwellCapMs must be a positive number, got -1.'],
    [{ version: 2 }, 'image.version must be 1, got 2; this build of journeylens reads image spec version 1 only (retrain the bundle or upgrade journeylens).'],
    [{ colour: true }, 'image.colour is not an image spec field; known fields: version, rows, rowMode, bucketMs, eventTypes, pageBuckets, dwellCapMs, gapCapMs, valueCap, countCap.'],
  ])('refuses %j with a message naming the field', (patch, message) => {
    let err: unknown;
    try {
      validateImageSpec({ ...defaultImageSpec, ...patch });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('CONFIG_INVALID');
    expect((err as UserError).message).toBe(message);
  });

  it.each([
    [{ gapMs: 0 }, 'sessionization.gapMs must be an integer from 1 to 4294967295, got 0.'],
    [{ maxSessionMs: 1000 }, 'sessionization.maxSessionMs (1000) must be at least sessionization.gapMs (1800000); raise maxSessionMs or lower gapMs.'],
    [{ allowedLatenessMs: 1_800_000 }, 'sessionization.allowedLatenessMs (1800000) must be less than sessionization.gapMs (1800000); lower the lateness or raise the gap.'],
  ])('refuses sessionization %j with a message naming the field', (patch, message) => {
    expect(() => validateSessionizationSpec({ ...defaultSessionizationSpec, ...patch })).toThrow(message);
  });

  it('names the file when spec.json is not JSON', () => {
    expect(() => parseDataSpec('{', 'data/spec.json')).toThrow(/^data\/spec.json is not valid JSON/);
    expect(() => parseDataSpec('{"image":{"rows":2}}', 'data/spec.json')).toThrow(/^data\/spec.json.image.version must be 1/);
  });
});
