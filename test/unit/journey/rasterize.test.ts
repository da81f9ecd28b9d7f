import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { type ImageSpec, imageColumns, imageWidth } from '../../../src/journey/image-spec.ts';
import { pageBucket } from '../../../src/journey/page-category.ts';
import { fnv1a32 } from '../../../src/util/hash.ts';
import { imageSize, logScale } from '../../../src/journey/rasterize.ts';
import { type ClosedSession, SessionStore } from '../../../src/streams/session-store.ts';
import { type SessionView } from '../../../src/journey/session-view.ts';
import { click, tinyImage } from '../streams/events.ts';

function sessionOf(events: ClickEvent[], image: ImageSpec = tinyImage): SessionView {
  // one session however far apart its events are (the gap splits sessions: test/unit/streams)
  const store = new SessionStore(image, { gapMs: 86_400_000 * 40, maxSessionMs: 86_400_000 * 40, allowedLatenessMs: 0 });
  const closed: ClosedSession[] = [];
  events.forEach((e, i) => store.offer(e, 0, BigInt(i), -Infinity, closed));
  store.closeAll('shutdown', closed);
  return closed[0]!.view;
}

const col = (spec: ImageSpec, name: string): number => imageColumns(spec).indexOf(name);

describe('fnv1a32', () => {
  it('matches the published FNV-1a test vectors over UTF-8', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes non-ASCII text as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        let h = 0x811c9dc5;
        for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193);
        expect(fnv1a32(s)).toBe(h >>> 0);
      }),
    );
  });
});

describe('rasterize, steps mode', () => {
  it('puts one row per event: one-hot type ("other" for unknown), hashed page, dwell, gap and value', () => {
    const v = sessionOf([
      click('e1', 's', 1000, { type: 'b', page: '/cart', durationMs: 1000, value: null }),
      click('e2', 's', 1010, { type: 'mystery', page: null, durationMs: null, value: 50 }),
    ]);
    const img = v.rasterize();
    const w = imageWidth(tinyImage);
    expect(img).toHaveLength(tinyImage.rows * w);
    const row0 = Array.from(img.subarray(0, w));
    const row1 = Array.from(img.subarray(w, 2 * w));
    const q = (x: number): number => Math.fround(Math.round(x * 255) / 255);
    const expected0 = new Array<number>(w).fill(0);
    expected0[col(tinyImage, 'b')] = 1;
    expected0[col(tinyImage, `page#${pageBucket('/cart', 2)}`)] = 1;
    expected0[col(tinyImage, 'dwell')] = q(logScale(1000, tinyImage.dwellCapMs));
    expect(row0).toEqual(expected0);
    const expected1 = new Array<number>(w).fill(0);
    expected1[col(tinyImage, 'other')] = 1;
    expected1[col(tinyImage, 'gap')] = Math.fround(logScale(10, tinyImage.gapCapMs));
    expected1[col(tinyImage, 'value')] = q(logScale(50, tinyImage.valueCap));
    expect(row1).toEqual(expected1);
    expect(Array.from(img.subarray(2 * w)).every((x) => x === 0)).toBe(true);
  });

  it('keeps the last H steps; row 0’s gap is measured from the step that fell out of the window', () => {
    const types = ['a', 'b', 'c', 'a', 'b', 'c'];
    const v = sessionOf(types.map((t, i) => click(`e${i}`, 's', i * 100 + (i === 2 ? 50 : 0), { type: t })));
    expect(v.recentTypes(10)).toEqual(['c', 'a', 'b', 'c']);
    expect(v.windowStart).toBe(250);
    const img = v.rasterize();
    const w = imageWidth(tinyImage);
    expect(img[col(tinyImage, 'gap')]).toBeCloseTo(logScale(150, tinyImage.gapCapMs), 6); // 250 − 100
    expect(img[w + col(tinyImage, 'gap')]).toBeCloseTo(logScale(50, tinyImage.gapCapMs), 6); // 300 − 250
  });

  it('writes into a caller-provided slice without touching the rest of the buffer', () => {
    const v = sessionOf([click('e1', 's', 0, { type: 'a' })]);
    const n = imageSize(tinyImage);
    const batch = new Float32Array(3 * n).fill(7);
    v.rasterize(batch.subarray(n, 2 * n));
    expect(batch.subarray(0, n).every((x) => x === 7)).toBe(true);
    expect(batch.subarray(2 * n).every((x) => x === 7)).toBe(true);
    expect(Array.from(batch.subarray(n, 2 * n))).toEqual(Array.from(v.rasterize()));
    expect(() => v.rasterize(new Float32Array(n - 1))).toThrow(/needs/);
  });

  it('gives pixels in [0,1] and the same image for the same events, whatever their values', () => {
    const event = fc.record({
      type: fc.constantFrom('a', 'b', 'c', 'x', ''),
      page: fc.option(fc.string(), { nil: null }),
      durationMs: fc.option(fc.double({ noNaN: false }), { nil: null }),
      value: fc.option(fc.double(), { nil: null }),
      dt: fc.integer({ min: 0, max: 10_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 12 }), fc.constantFrom<'steps' | 'buckets'>('steps', 'buckets'), (evs, rowMode) => {
        const spec: ImageSpec = { ...tinyImage, rowMode, bucketMs: 1_000_000 };
        let t = 0;
        const clicks = evs.map((e, i) => click(`e${i}`, 's', (t += e.dt), { type: e.type, page: e.page, durationMs: e.durationMs, value: e.value }));
        const a = sessionOf(clicks, spec).rasterize();
        const b = sessionOf(clicks, spec).rasterize();
        expect(a.every((x) => x >= 0 && x <= 1)).toBe(true);
        expect(Array.from(a)).toEqual(Array.from(b));
      }),
    );
  });
});

describe('rasterize, buckets mode', () => {
  const spec: ImageSpec = { ...tinyImage, rowMode: 'buckets', bucketMs: 86_400_000, countCap: 10 };
  const day = 86_400_000;

  it('aggregates each day into one row, counts log-scaled, rows counted from the first day', () => {
    const v = sessionOf(
      [
        click('e1', 's', 10 * day + 100, { type: 'a', durationMs: 1000, value: 2 }),
        click('e2', 's', 10 * day + 200, { type: 'a', durationMs: 3000, value: 3 }),
        click('e3', 's', 12 * day + 5, { type: 'c', page: null, durationMs: null }),
      ],
      spec,
    );
    const img = v.rasterize();
    const w = imageWidth(spec);
    expect(img[col(spec, 'a')]).toBeCloseTo(logScale(2, 10), 6);
    expect(img[col(spec, 'dwell')]).toBeCloseTo(logScale(4000, spec.dwellCapMs), 6);
    expect(img[col(spec, 'value')]).toBeCloseTo(logScale(5, spec.valueCap), 6);
    expect(img[col(spec, 'gap')]).toBe(0);
    expect(Array.from(img.subarray(w, 2 * w)).every((x) => x === 0)).toBe(true); // an empty day
    expect(img[2 * w + col(spec, 'c')]).toBeCloseTo(logScale(1, 10), 6);
    expect(img[2 * w + col(spec, 'gap')]).toBeCloseTo(logScale(2 * day - 195, spec.gapCapMs), 6);
    expect(v.windowStart).toBe(10 * day);
  });

  it('rolls: with more days than rows, the window ends at the last day', () => {
    const v = sessionOf(
      [0, 1, 2, 3, 4, 5].map((d) => click(`e${d}`, 's', d * day + 1, { type: d % 2 === 0 ? 'a' : 'b' })),
      spec,
    );
    expect(v.windowStart).toBe(2 * day);
    const img = v.rasterize();
    const w = imageWidth(spec);
    expect(img[col(spec, 'a')]).toBeGreaterThan(0); // day 2
    expect(img[3 * w + col(spec, 'b')]).toBeGreaterThan(0); // day 5
    expect(img[col(spec, 'gap')]).toBeCloseTo(logScale(day, spec.gapCapMs), 6); // from day 1's event
  });
});

