import { describe, expect, it } from 'vitest';
import { buildReadoutRow, imageFeatureNames, readoutFeatureGroup, readoutRowBuilder, summaryFeatureNames, summaryWindowRows } from '../../../src/model/readout-row.ts';
import { defaultImageSpec, imageColumns, imageWidth, type ImageSpec } from '../../../src/journey/image-spec.ts';
import { rasterize, type BucketRows, type StepRows, NO_PAGE } from '../../../src/journey/rasterize.ts';

const DAY = 86_400_000;
const MIN = 60_000;

/** Two event types, no pages, four rows. */
const tiny = (rowMode: 'steps' | 'buckets'): ImageSpec => ({ ...defaultImageSpec, rows: 4, rowMode, bucketMs: DAY, eventTypes: ['a', 'b'], pageBuckets: 0, countCap: 100 });

const none = { embedding: [] as number[], clusterChurnRate: 0, knnChurnRate: 0 };

describe('buildReadoutRow', () => {
  it('builds features in the readout order: embedding values, rates, image column means and time', () => {
    const spec: ImageSpec = { ...tiny('steps'), rows: 2 };
    // 2 rows × 6 columns (a, b, other, dwell, gap, value)
    const image = Float32Array.from([0, 1, 0, 0.5, 0, 0, 1, 0, 0, 0.5, 1, 0]);
    const timing = { sessionStart: 0, windowStart: 0, windowEnd: 90 * MIN, asOf: 99 * MIN, eventCount: 2 };
    const row = buildReadoutRow(['knnChurnRate', 'emb1', 'img:b', 'clusterChurnRate', 'img:a', 'quietMinutes', 'ageMinutes'], spec, { embedding: [10, 20], clusterChurnRate: 0.3, knnChurnRate: 0.7, image, timing });
    expect(Array.from(row)).toEqual([0.7, 20, 0.5, 0.3, 0.5, Math.log(10), Math.log(100)]);
  });

  it('names one image feature per image column and refuses names it cannot compute', () => {
    expect(imageFeatureNames(defaultImageSpec)).toEqual(imageColumns(defaultImageSpec).map((c) => `img:${c}`));
    for (const [name, why] of [
      ['img:nope', /img:nope names no image column/],
      ['mystery', /readout feature mystery is unknown/],
      ['s:count:nope', /s:count:nope names no event type/],
      ['win0x0:a', /at least one row/],
      ['win1x3:nope', /names no event type/],
    ] as const) {
      expect(() => readoutRowBuilder([name], tiny('steps'))).toThrow(why);
    }
  });

  it('computes the summary features of a bucketed image from its counts and the time it was scored', () => {
    const spec = tiny('buckets');
    // day 0: 3×a, day 1: nothing, day 2: 1×a 5×b, day 3: 200×b (capped at countCap 100 in the image)
    const counts = Uint16Array.from([3, 0, 0, 0, 0, 0, 1, 5, 0, 0, 200, 0]);
    const rows: BucketRows = {
      mode: 'buckets',
      counts,
      dwellMs: new Float64Array(4),
      valueCents: new Float64Array(4),
      minTs: Float64Array.from([0, Number.NaN, 2 * DAY, 3 * DAY]),
      maxTs: Float64Array.from([1, Number.NaN, 2 * DAY + 1, 3 * DAY + 1]),
      prevTs: Number.NaN,
    };
    const image = rasterize(rows, spec);
    // scored 2 days after the last event's day began: "now" is row 5, beyond the image
    const timing = { sessionStart: 0, windowStart: 0, windowEnd: 3 * DAY + 1, asOf: 5 * DAY + 12 * 3600_000, eventCount: 209 };
    const names = summaryFeatureNames(spec);
    expect(summaryWindowRows(spec)).toBe(1);
    const row = buildReadoutRow(names, spec, { ...none, image, timing });
    const f = (n: string) => row[names.indexOf(n)]!;
    expect(f('s:count:a')).toBeCloseTo(Math.log1p(4), 10);
    expect(f('s:count:b')).toBeCloseTo(Math.log1p(105), 10);
    expect(f('s:count:other')).toBe(0);
    expect(f('s:events')).toBeCloseTo(Math.log1p(209), 10);
    expect(f('s:activeRows')).toBe(3);
    expect(f('s:quietUnits')).toBeCloseTo((5.5 * DAY - 3 * DAY - 1) / DAY, 10);
    expect(f('s:ageUnits')).toBeCloseTo(5.5, 10);
    expect(f('s:activeRate')).toBeCloseTo(3 / 5.5, 10);
    expect(f('s:streak')).toBe(2);
    expect(f('s:lastRowEvents')).toBeCloseTo(Math.log1p(100), 10);
    expect(f('head1:active')).toBe(1);
    // windows of one row before now (row 5): rows 5, 4 are empty, row 3 holds the 100 b, row 2 the 1 a + 5 b
    expect([0, 1, 2, 3].map((i) => f(`win${i}x1:active`))).toEqual([0, 0, 1, 1]);
    expect(f('win2x1:b')).toBeCloseTo(Math.log1p(100), 10);
    expect(f('win3x1:events')).toBeCloseTo(Math.log1p(6), 10);
  });

  it('counts steps-mode windows back from the last event ("rows before the end")', () => {
    const spec = { ...tiny('steps'), rows: 8 };
    const types = [0, 0, 1, 0, 1, 1]; // a a b a b b
    const rows: StepRows = {
      mode: 'steps',
      len: types.length,
      rel: Uint32Array.from(types.map((_, i) => i * MIN)),
      type: Uint8Array.from(types),
      page: new Uint8Array(types.length).fill(NO_PAGE),
      dwell: new Uint8Array(types.length),
      value: new Uint8Array(types.length),
      prevRel: -1,
    };
    const image = rasterize(rows, spec);
    expect(image.length).toBe(8 * imageWidth(spec));
    const names = summaryFeatureNames(spec);
    expect(summaryWindowRows(spec)).toBe(2);
    const row = buildReadoutRow(names, spec, { ...none, image, timing: { sessionStart: 0, windowStart: 0, windowEnd: 5 * MIN, asOf: 5 * MIN, eventCount: 6 } });
    const f = (n: string) => row[names.indexOf(n)]!;
    expect(f('s:count:a')).toBeCloseTo(Math.log1p(3), 10);
    expect(f('s:activeRows')).toBe(6);
    // the last two steps are b b; the two before a b; then a a
    expect(f('win0x2:b')).toBeCloseTo(Math.log1p(2), 10);
    expect(f('win0x2:a')).toBe(0);
    expect(f('win1x2:a')).toBeCloseTo(Math.log1p(1), 10);
    expect(f('win2x2:a')).toBeCloseTo(Math.log1p(2), 10);
    expect(f('win3x2:active')).toBe(0);
    expect(f('s:quietUnits')).toBe(0);
  });

  it('puts the time and summary features in the lightly penalised group, the rest in the embedding group', () => {
    expect(['quietMinutes', 'ageMinutes', 's:events', 'win0x8:active', 'head8:active'].map(readoutFeatureGroup)).toEqual(Array(5).fill('summary'));
    expect(['emb0', 'clusterChurnRate', 'knnChurnRate', 'img:a'].map(readoutFeatureGroup)).toEqual(Array(4).fill('embedding'));
  });
});
