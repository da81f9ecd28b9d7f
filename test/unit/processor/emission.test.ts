import { describe, expect, it } from 'vitest';
import { type SessionScore } from '../../../src/contracts/scorer.ts';
import { SignalEmission } from '../../../src/processor/emission.ts';

const score = (clusterId: number, churnRisk: number, riskBand: SessionScore['riskBand'] = churnRisk >= 0.7 ? 'high' : churnRisk >= 0.4 ? 'medium' : 'low'): SessionScore => ({
  clusterId,
  clusterLabel: `c${clusterId}`,
  distance: 0,
  novel: false,
  churnRisk,
  riskBand,
});

describe('signal emission', () => {
  it("'every' publishes every scored update and keeps no state", () => {
    const e = new SignalEmission({ mode: 'every' });
    expect([0.1, 0.1, 0.1].map((r) => e.observe(0, 's', score(1, r), false))).toEqual([true, true, true]);
    expect(e.size).toBe(0);
  });

  it("'change' publishes the first signal, a new cluster or band, a risk move of a step, and the final one", () => {
    const e = new SignalEmission({ mode: 'change', riskStep: 0.05 });
    const seen = [
      e.observe(0, 's', score(1, 0.1), false), // first
      e.observe(0, 's', score(1, 0.12), false), // moved 0.02
      e.observe(0, 's', score(1, 0.14), false), // 0.04 from the last published
      e.observe(0, 's', score(1, 0.16), false), // 0.06: published
      e.observe(0, 's', score(2, 0.16), false), // new cluster
      e.observe(0, 's', score(2, 0.39), false), // 0.23: published
      e.observe(0, 's', score(2, 0.41), false), // medium band
      e.observe(0, 's', score(2, 0.41), false), // nothing new
      e.observe(0, 's', score(2, 0.41), true), // final
    ];
    expect(seen).toEqual([true, false, false, true, true, true, true, false, true]);
    expect(e.size).toBe(0);
  });

  it('keeps sessions apart and forgets a revoked partition', () => {
    const e = new SignalEmission({ mode: 'change' });
    expect(e.observe(0, 'a', score(1, 0.1), false)).toBe(true);
    expect(e.observe(1, 'b', score(1, 0.1), false)).toBe(true);
    expect(e.observe(0, 'a', score(1, 0.1), false)).toBe(false);
    expect(e.size).toBe(2);
    e.dropPartition(1);
    expect(e.size).toBe(1);
    // rebuilt from scratch by whoever reads the partition again: its first signal is news
    expect(e.observe(1, 'b', score(1, 0.1), false)).toBe(true);
  });

  it('refuses a step outside (0, 1], naming the option', () => {
    expect(() => new SignalEmission({ mode: 'change', riskStep: 0 })).toThrow(/riskStep.*above 0/);
  });
});
