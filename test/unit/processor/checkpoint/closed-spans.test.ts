// The closed-span guard moves a commit point back out of closed sessions' spans, again and again
// while it lands inside another; checked against that definition, step by step, on arbitrary spans.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedSpans } from '../../../../src/processor/checkpoint/closed-spans.ts';

/** The guard's definition: move c to the first offset of a span with first < c ≤ last until none holds. */
function stepwise(spans: readonly { first: bigint; last: bigint }[], c: bigint): bigint {
  for (let moved = true; moved; ) {
    moved = false;
    for (const s of spans) {
      if (s.first < c && s.last >= c) {
        c = s.first;
        moved = true;
      }
    }
  }
  return c;
}

const spanArb = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 40 })).map(([first, len]) => ({ first: BigInt(first), last: BigInt(first + len) }));

describe('ClosedSpans', () => {
  it('moves a commit point back through chains of spans, and leaves one outside every span', () => {
    const g = new ClosedSpans();
    g.add('t', 0, 10n, 20n);
    g.add('t', 0, 18n, 30n);
    g.add('t', 0, 30n, 35n);
    g.add('t', 0, 50n, 60n);
    expect(g.clamp('t', 0, 33n)).toBe(10n); // 33 → 30 → 18 → 10
    expect(g.clamp('t', 0, 10n)).toBe(10n); // a span's first offset is outside it
    expect(g.clamp('t', 0, 40n)).toBe(40n);
    expect(g.clamp('t', 1, 55n)).toBe(55n); // another partition's spans do not count
    expect(g.clamp('t', 0, 55n)).toBe(50n);
  });

  it('gives the stepwise definition on arbitrary spans and points, and forgets only spans wholly below', () => {
    fc.assert(
      fc.property(fc.array(spanArb, { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 260 }), { minLength: 1, maxLength: 5 }), (spans, points) => {
        const g = new ClosedSpans();
        for (const s of spans) g.add('t', 0, s.first, s.last);
        let kept = spans;
        // commit points only move forward
        for (const p of [...points].sort((a, b) => a - b)) {
          const expected = stepwise(kept, BigInt(p));
          expect(g.clamp('t', 0, BigInt(p))).toBe(expected);
          kept = kept.filter((s) => s.last >= expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('clamps a commit point at the top of 20,000 chained spans, added in reverse, to the chain\'s start', () => {
    const g = new ClosedSpans();
    // each span overlaps the next, as the spans of interleaved sessions of a backlog do
    for (let i = 20_000; i > 0; i--) g.add('t', 0, BigInt(i * 10), BigInt(i * 10 + 15));
    expect(g.clamp('t', 0, 200_005n)).toBe(10n);
    expect(g.clamp('t', 0, 200_020n)).toBe(200_020n);
  });
});
