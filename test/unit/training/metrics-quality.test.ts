import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, averagePrecision, reliabilityTable, rocAuc } from '../../../src/training/metrics-quality.ts';

const sklearn = JSON.parse(readFileSync(new URL('../../fixtures/metrics-reference.json', import.meta.url), 'utf8')) as {
  ari: { a: number[]; b: number[]; value: number }[];
  binary: { y: number[]; scores: number[]; rocAuc: number; averagePrecision: number };
};

describe('quality metrics match scikit-learn (test/fixtures/metrics-reference.json)', () => {
  it('adjusted Rand index', () => {
    for (const c of sklearn.ari) expect(adjustedRandIndex(c.a, c.b)).toBeCloseTo(c.value, 12);
  });
  it('ROC AUC with tied scores', () => {
    expect(rocAuc(sklearn.binary.y, sklearn.binary.scores)).toBeCloseTo(sklearn.binary.rocAuc, 12);
  });
  it('average precision with tied scores', () => {
    expect(averagePrecision(sklearn.binary.y, sklearn.binary.scores)).toBeCloseTo(sklearn.binary.averagePrecision, 12);
  });
});

describe('quality metrics on hand-computed cases', () => {
  it('ARI is 1 for a relabelled partition and ~0 or below for an unrelated one', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, -1], [5, 5, 7, 7, 2])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeLessThan(0);
  });
  it('AUC: perfect ranking 1, reversed 0, all tied 0.5; one swapped pair of 2x2 = 0.75', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.6, 0.5, 0.9])).toBe(0.75);
  });
  it('AP: positives ranked 1st and 3rd give (1 + 2/3) / 2', () => {
    expect(averagePrecision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });
  it('AUC is undefined (NaN) with one class; bad labels are rejected', () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    expect(() => rocAuc([0, 2], [0.1, 0.2])).toThrow(/labels must be 0 or 1, got 2/);
    expect(() => rocAuc([0, 1], [0.1])).toThrow(/same length/);
  });
  it('reliability table: perfectly calibrated bins have zero calibration error', () => {
    const labels = [0, 0, 0, 1, 1, 1, 1, 0];
    const probs = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const table = reliabilityTable(labels, probs, 4);
    expect(table.expectedCalibrationError).toBeCloseTo(0, 12);
    expect(table.bins[1]).toMatchObject({ count: 4, meanPredicted: 0.25, observedRate: 0.25 });
    expect(table.bins[0]!.count).toBe(0);
  });
});

describe('quality metrics: properties', () => {
  const binary = fc
    .array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 6 })), { minLength: 2, maxLength: 40 })
    .filter((rows) => rows.some(([y]) => y === 1) && rows.some(([y]) => y === 0));

  it('ROC AUC equals the share of (positive, negative) pairs ranked correctly, ties counting half', () => {
    fc.assert(
      fc.property(binary, (rows) => {
        const y = rows.map(([l]) => l);
        const s = rows.map(([, v]) => v / 6);
        let wins = 0;
        let pairs = 0;
        for (const [yi, si] of rows) {
          if (yi !== 1) continue;
          for (const [yj, sj] of rows) {
            if (yj !== 0) continue;
            pairs++;
            wins += si > sj ? 1 : si === sj ? 0.5 : 0;
          }
        }
        expect(rocAuc(y, s)).toBeCloseTo(wins / pairs, 12);
      }),
    );
  });

  it('average precision lies in (0, 1] and is 1 when every positive outranks every negative', () => {
    fc.assert(
      fc.property(binary, (rows) => {
        const y = rows.map(([l]) => l);
        const ap = averagePrecision(y, rows.map(([, v]) => v));
        expect(ap).toBeGreaterThan(0);
        expect(ap).toBeLessThanOrEqual(1 + 1e-12);
        expect(averagePrecision(y, y.map((l, i) => l * 100 + (i % 7)))).toBeCloseTo(1, 12);
      }),
    );
  });

  it('ARI is symmetric and blind to how clusters are numbered', () => {
    const labels = fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 3, maxLength: 40 });
    fc.assert(
      fc.property(labels, labels, (a0, b0) => {
        const n = Math.min(a0.length, b0.length);
        const a = a0.slice(0, n);
        const b = b0.slice(0, n);
        expect(adjustedRandIndex(a, b)).toBeCloseTo(adjustedRandIndex(b, a), 12);
        expect(adjustedRandIndex(a.map((x) => 10 - x * 3), b)).toBeCloseTo(adjustedRandIndex(a, b), 12);
        expect(adjustedRandIndex(a, a)).toBe(1);
      }),
    );
  });
});
