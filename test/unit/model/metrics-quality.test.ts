import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, averagePrecision, reliabilityTable, rocAuc } from '../../../src/model/metrics-quality.ts';

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
