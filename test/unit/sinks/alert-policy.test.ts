import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { AlertPolicy, alertIdFor, type AlertPolicyOptions, type RiskObservation } from '../../../src/sinks/alert-policy.ts';
import { type ChurnAlert } from '../../../src/contracts/records.ts';

const MIN = 60_000;

/** Feeds one session a risk series, one event per minute; returns the alerts raised. */
function run(policy: AlertPolicy, risks: readonly number[], session = 's1', startCount = 1): ChurnAlert[] {
  const alerts: ChurnAlert[] = [];
  risks.forEach((risk, i) => {
    const a = policy.observe(obs(session, i, risk, startCount + i));
    if (a) alerts.push(a);
  });
  return alerts;
}

function obs(sessionId: string, i: number, churnRisk: number, eventCount = i + 1): RiskObservation {
  return {
    sessionId,
    userId: 'u1',
    signalId: `sig-${sessionId}-${i}`,
    lastEventId: `${sessionId}-e${i}`,
    eventTime: 1_700_000_000_000 + i * MIN,
    eventCount,
    churnRisk,
    clusterId: 4,
    clusterLabel: 'frustrated support-seeker',
    modelVersion: 'm1',
    steps: ['page_view', 'checkout', 'support_contact', 'page_view', 'support_contact', 'support_contact'],
  };
}

const base: Partial<AlertPolicyOptions> = { mediumThreshold: 0.5, highThreshold: 0.75, rearmMargin: 0.05, minEvents: 1, cooldownMs: 0, now: () => 42 };

describe('AlertPolicy', () => {
  it('raises one alert for a risk that oscillates around a threshold, not one per crossing', () => {
    const policy = new AlertPolicy(base);
    const risks = [0.3, 0.49, 0.51, 0.48, 0.52, 0.47, 0.53, 0.49, 0.5, 0.46, 0.51];
    const alerts = run(policy, risks);
    expect(alerts.map((a) => [a.riskBand, a.previousBand, a.signalId])).toEqual([['medium', 'low', 'sig-s1-2']]);
  });

  it('alerts again on entering a higher band, and names the band it came from', () => {
    const alerts = run(new AlertPolicy(base), [0.2, 0.55, 0.6, 0.8, 0.9, 0.77]);
    expect(alerts.map((a) => `${a.previousBand}→${a.riskBand}`)).toEqual(['low→medium', 'medium→high']);
  });

  it('jumps straight to high without a medium alert when the risk rises in one step', () => {
    const alerts = run(new AlertPolicy(base), [0.1, 0.9]);
    expect(alerts.map((a) => `${a.previousBand}→${a.riskBand}`)).toEqual(['low→high']);
  });

  it('re-arms a band only after the risk fell below its lower threshold minus the margin', () => {
    const policy = new AlertPolicy(base);
    // 0.46 stays above 0.5 − 0.05, so the return to 0.6 is the same episode; 0.44 re-arms.
    const alerts = run(policy, [0.6, 0.46, 0.6, 0.44, 0.6]);
    expect(alerts.map((a) => a.signalId)).toEqual(['sig-s1-0', 'sig-s1-4']);
    // After a high alert, a dip to medium re-arms high but not medium.
    const p2 = new AlertPolicy(base);
    const a2 = run(p2, [0.8, 0.6, 0.8, 0.55, 0.8], 's2');
    expect(a2.map((a) => `${a.previousBand}→${a.riskBand}@${a.signalId}`)).toEqual(['low→high@sig-s2-0', 'medium→high@sig-s2-2', 'medium→high@sig-s2-4']);
  });

  it('waits for the minimum number of events, then alerts if the session is still in the band', () => {
    const policy = new AlertPolicy({ ...base, minEvents: 4 });
    const alerts = run(policy, [0.8, 0.8, 0.8, 0.8, 0.8]);
    expect(alerts.map((a) => a.eventCount)).toEqual([4]);
    // A session whose risk dropped before it was old enough never alerts.
    expect(run(new AlertPolicy({ ...base, minEvents: 4 }), [0.8, 0.8, 0.3, 0.3, 0.3], 's3')).toEqual([]);
  });

  it('holds a higher-band alert back during the cool-down (event time) and raises it after', () => {
    const policy = new AlertPolicy({ ...base, cooldownMs: 5 * MIN });
    // medium at minute 0, high from minute 1: the high alert waits until minute 5.
    const alerts = run(policy, [0.6, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]);
    expect(alerts.map((a) => `${a.riskBand}@${a.signalId}`)).toEqual(['medium@sig-s1-0', 'high@sig-s1-5']);
    // A high spell shorter than the cool-down is not alerted at all.
    const p2 = new AlertPolicy({ ...base, cooldownMs: 5 * MIN });
    expect(run(p2, [0.6, 0.8, 0.8, 0.3, 0.3, 0.3, 0.3], 's4').map((a) => a.riskBand)).toEqual(['medium']);
  });

  it('gives the same alerts with the same ids when the same input is replayed into a fresh policy', () => {
    const risks = [0.1, 0.6, 0.4, 0.8, 0.3, 0.9, 0.2, 0.7];
    const first = run(new AlertPolicy(base), risks).map((a) => a.alertId);
    const replay = run(new AlertPolicy(base), risks).map((a) => a.alertId);
    expect(first.length).toBeGreaterThan(1);
    expect(replay).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    expect(first[0]).toBe(alertIdFor('s1', 'medium', 0));
    // The id names the session, the band and how many times the session entered it before,
    // and nothing else.
    expect(alertIdFor('s1', 'high', 0)).not.toBe(alertIdFor('s1', 'medium', 0));
    expect(alertIdFor('s2', 'medium', 0)).not.toBe(alertIdFor('s1', 'medium', 0));
    expect(alertIdFor('s1', 'medium', 1)).not.toBe(alertIdFor('s1', 'medium', 0));
  });

  it('names an alert by the band entry, not the event that happened to be scored when it was seen', () => {
    // the same session sampled at other events (updates coalesced differently): same ids
    const dense = run(new AlertPolicy(base), [0.1, 0.6, 0.6, 0.8, 0.8, 0.3, 0.3, 0.8]).map((a) => `${a.riskBand}:${a.alertId}`);
    const p2 = new AlertPolicy(base);
    const sparse: string[] = [];
    for (const [i, r] of [0.1, 0.6, 0.6, 0.8, 0.8, 0.3, 0.3, 0.8].entries()) {
      if (i % 2 === 1 && i !== 7) continue;
      const a = p2.observe(obs('s1', i, r));
      if (a) sparse.push(`${a.riskBand}:${a.alertId}`);
    }
    expect(sparse).toEqual(dense);
    expect(dense).toEqual([`medium:${alertIdFor('s1', 'medium', 0)}`, `high:${alertIdFor('s1', 'high', 0)}`, `high:${alertIdFor('s1', 'high', 1)}`]);
  });

  it('carries a session across a restart: stateOf() restored into a fresh policy goes on as if nothing happened', () => {
    const risks = [0.6, 0.8, 0.3, 0.3, 0.8, 0.9, 0.2, 0.75];
    const whole = run(new AlertPolicy(base), risks).map((a) => a.alertId);
    for (let cut = 1; cut < risks.length; cut++) {
      const before = new AlertPolicy(base);
      const ids: string[] = [];
      for (const [i, r] of risks.slice(0, cut).entries()) {
        const a = before.observe(obs('s1', i, r));
        if (a) ids.push(a.alertId);
      }
      const after = new AlertPolicy(base);
      const state = before.stateOf('s1');
      if (state) after.restore('s1', JSON.parse(JSON.stringify(state)) as typeof state);
      for (const [j, r] of risks.slice(cut).entries()) {
        const a = after.observe(obs('s1', cut + j, r));
        if (a) ids.push(a.alertId);
      }
      expect(ids).toEqual(whole);
    }
    expect(new AlertPolicy(base).stateOf('s1')).toBeUndefined();
  });

  it('fills the alert from the observation, with a reason naming the steps and the cluster', () => {
    const [a] = run(new AlertPolicy(base), [0.62]);
    expect(a).toEqual({
      alertId: alertIdFor('s1', 'medium', 0),
      signalId: 'sig-s1-0',
      sessionId: 's1',
      userId: 'u1',
      churnRisk: 0.62,
      riskBand: 'medium',
      previousBand: 'low',
      clusterId: 4,
      clusterLabel: 'frustrated support-seeker',
      reason: "3× support_contact after checkout; cluster 'frustrated support-seeker' (churn 0.62)",
      eventCount: 1,
      modelVersion: 'm1',
      emittedAt: 42,
    });
  });

  it('reads the steps only when an alert fires', () => {
    const policy = new AlertPolicy(base);
    let reads = 0;
    const steps = () => {
      reads++;
      return ['search'];
    };
    for (const [i, r] of [0.1, 0.2, 0.6, 0.6, 0.7].entries()) policy.observe({ ...obs('s1', i, r), steps });
    expect(reads).toBe(1);
  });

  it('ignores an unscorable (NaN) risk without losing the latched band', () => {
    const policy = new AlertPolicy(base);
    const alerts = run(policy, [0.6, Number.NaN, 0.6]);
    expect(alerts).toHaveLength(1);
  });

  it('holds no state for sessions that never alerted and frees it when a session closes', () => {
    const policy = new AlertPolicy(base);
    for (let s = 0; s < 3000; s++) run(policy, s % 3 === 0 ? [0.9] : [0.1, 0.2], `s${s}`);
    expect(policy.size).toBe(1000);
    for (let s = 0; s < 3000; s++) policy.release(`s${s}`);
    expect(policy.size).toBe(0);
    // Released slots are reused with fresh state: a new session with the same id alerts again.
    expect(run(policy, [0.9], 's0')).toHaveLength(1);
    expect(policy.size).toBe(1);
  });

  it('keeps its promises for any risk series (property)', () => {
    const cooldownMs = 3 * MIN;
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (risks, minEvents) => {
        const policy = new AlertPolicy({ ...base, minEvents, cooldownMs });
        const raised: { i: number; band: number }[] = [];
        risks.forEach((r, i) => {
          const a = policy.observe(obs('p', i, r));
          if (a) raised.push({ i, band: ['low', 'medium', 'high'].indexOf(a.riskBand) });
        });
        const lower = [0, 0.5, 0.75];
        for (let k = 0; k < raised.length; k++) {
          const cur = raised[k] as { i: number; band: number };
          expect(cur.i + 1).toBeGreaterThanOrEqual(minEvents);
          expect(cur.band).toBeGreaterThan(0);
          if (k === 0) continue;
          const prev = raised[k - 1] as { i: number; band: number };
          expect((cur.i - prev.i) * MIN).toBeGreaterThanOrEqual(cooldownMs);
          // Same or lower band again only after a dip below that band's threshold − margin.
          if (cur.band <= prev.band) {
            const dipped = risks.slice(prev.i + 1, cur.i).some((r) => r < (lower[cur.band] as number) - 0.05);
            expect(dipped).toBe(true);
          }
        }
      }),
      { numRuns: 300, seed: 8 },
    );
  });

  it("bands like the readout's default risk setting, and moves its bands when the serving bundle's thresholds change", () => {
    const policy = new AlertPolicy({ minEvents: 1, cooldownMs: 0 });
    expect(policy.thresholds).toEqual({ medium: 0.4, high: 0.7 });
    expect(run(policy, [0.45], 'a').map((a) => a.riskBand)).toEqual(['medium']);
    policy.setThresholds({ medium: 0.9, high: 0.95 });
    expect(run(policy, [0.45, 0.8], 'b')).toEqual([]);
    expect(run(policy, [0.96], 'c').map((a) => a.riskBand)).toEqual(['high']);
    expect(() => policy.setThresholds({ medium: 0.9, high: 0.5 })).toThrow(/highThreshold \(0.5\) must be greater than mediumThreshold \(0.9\)/);
    expect(policy.thresholds).toEqual({ medium: 0.9, high: 0.95 });
  });

  it('rejects inconsistent options with a message naming the option and the rule', () => {
    const msg = (o: Partial<AlertPolicyOptions>) => {
      try {
        new AlertPolicy(o);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg({ mediumThreshold: 0.8, highThreshold: 0.7 })).toBe('alert policy: highThreshold (0.7) must be greater than mediumThreshold (0.8).');
    expect(msg({ mediumThreshold: 1.5 })).toBe('alert policy: mediumThreshold must be a number in (0, 1], got 1.5.');
    expect(msg({ rearmMargin: 0.6 })).toBe('alert policy: rearmMargin must be ≥ 0 and less than mediumThreshold (0.4), got 0.6.');
    expect(msg({ minEvents: 0 })).toBe('alert policy: minEvents must be an integer ≥ 1, got 0.');
    expect(msg({ cooldownMs: -1 })).toBe('alert policy: cooldownMs must be a number of ms ≥ 0, got -1.');
  });
});
