import { describe, expect, it } from 'vitest';
import { formatRiskSetting, parseRiskSetting, quantileAt, resolveRiskSetting, riskBand } from '../../../src/contracts/risk.ts';

describe('the risk setting', () => {
  it('reads probabilities, budgets and a mix of both', () => {
    expect(parseRiskSetting('medium=0.4,high=0.7')).toEqual({ medium: { probability: 0.4 }, high: { probability: 0.7 } });
    expect(parseRiskSetting(' high = top5% , medium=top20%')).toEqual({ medium: { topShare: 0.2 }, high: { topShare: 0.05 } });
    expect(formatRiskSetting(parseRiskSetting('medium=0.5,high=top2.5%'))).toBe('medium=0.5,high=top2.5%');
  });

  it('refuses settings that cannot mean anything, naming the option and an example', () => {
    for (const [text, why] of [
      ['medium=0.4', /--risk must give both medium and high/],
      ['medium=0.7,high=0.4', /--risk medium \(0.7\) must be below high \(0.4\)/],
      ['medium=top5%,high=top20%', /the medium budget \(top5%\) must be larger than the high budget \(top20%\)/],
      ['medium=1.5,high=0.9', /medium=1.5: a bound must be a churn probability in \(0, 1\] or a budget/],
      ['medium=top0%,high=0.9', /a budget must be a share of sessions above 0 %/],
      ['low=0.1,high=0.9', /must be band=bound pairs for the bands medium and high, got "low=0.1"/],
      ['medium=0.2,medium=0.3,high=0.9', /names medium twice/],
    ] as const) {
      expect(() => parseRiskSetting(text)).toThrow(why);
      expect(() => parseRiskSetting(text)).toThrow(/e\.g\. "medium=0\.4,high=0\.7"/);
    }
  });

  it("turns budgets into the bundle's quantiles of per-session highest risk", () => {
    // risks 0.00, 0.01, …, 1.00 at levels 0 … 1
    const q = Array.from({ length: 101 }, (_, i) => i / 100);
    expect(quantileAt(q, 0.955)).toBeCloseTo(0.955, 10);
    const t = resolveRiskSetting(parseRiskSetting('medium=top20%,high=top5%'), q);
    expect(t.medium).toBeCloseTo(0.8, 10);
    expect(t.high).toBeCloseTo(0.95, 10);
    expect(resolveRiskSetting(parseRiskSetting('medium=0.3,high=top5%'), q).medium).toBe(0.3);
    expect(() => resolveRiskSetting(parseRiskSetting('medium=0.3,high=top5%'), undefined)).toThrow(/high=top5% needs the risk distribution a bundle stores .* retrain it with this version, or give high as a probability/);
    // a budget past a probability of the other band cannot be met
    expect(() => resolveRiskSetting(parseRiskSetting('medium=0.99,high=top5%'), q)).toThrow(/gives medium 0.9900 and high 0.9500 for this bundle; medium must be below high/);
  });

  it('bands a risk', () => {
    expect(riskBand(0.1)).toBe('low');
    expect(riskBand(0.4)).toBe('medium');
    expect(riskBand(0.95)).toBe('high');
  });
});
