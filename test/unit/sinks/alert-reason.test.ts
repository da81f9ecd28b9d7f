import { describe, expect, it } from 'vitest';
import { buildAlertReason, formatQuiet } from '../../../src/sinks/alert-reason.ts';

const reason = (steps: string[], extra: Partial<Parameters<typeof buildAlertReason>[1]> = {}, label = 'frustrated support-seeker', risk = 0.62) =>
  buildAlertReason({ steps, clusterLabel: label, churnRisk: risk }, extra);

describe('buildAlertReason', () => {
  it('names the repeated step, the step before it, the cluster and the risk', () => {
    expect(reason(['page_view', 'checkout', 'support_contact', 'page_view', 'support_contact', 'support_contact'])).toBe(
      "3× support_contact after checkout; cluster 'frustrated support-seeker' (churn 0.62)",
    );
  });

  it('says how long a quiet session has been quiet, before its last steps', () => {
    const quiet = (ms: number, steps = ['video', 'problem', 'problem']) => buildAlertReason({ steps, clusterLabel: 'video then problems', churnRisk: 0.81, quietMs: ms });
    expect(quiet(4 * 86_400_000 + 5)).toBe("quiet for 4 days after 2× problem after video; cluster 'video then problems' (churn 0.81)");
    expect(quiet(3 * 3_600_000, [])).toBe("quiet for 3 h; cluster 'video then problems' (churn 0.81)");
    expect(quiet(59_999)).toBe("2× problem after video; cluster 'video then problems' (churn 0.81)");
    // at the close the silence is just the gap: the reason says the session ended
    expect(buildAlertReason({ steps: ['login', 'logout'], clusterLabel: 'short', churnRisk: 0.7, quietMs: 1_800_000, ended: true })).toBe("ended after logout after login; cluster 'short' (churn 0.70)");
    expect([formatQuiet(60_000), formatQuiet(86_400_000), formatQuiet(47 * 3_600_000)]).toEqual(['1 min', '1 day', '1 day']);
  });

  it('looks past page views, which happen in every journey, unless nothing else happened', () => {
    expect(reason(['search', 'page_view', 'page_view', 'page_view', 'add_to_cart'])).toBe("add_to_cart after search; cluster 'frustrated support-seeker' (churn 0.62)");
    expect(reason(['page_view', 'page_view'])).toBe("2× page_view; cluster 'frustrated support-seeker' (churn 0.62)");
  });

  it('prefers the most recent type on a tie and looks only at the last steps', () => {
    expect(reason(['search', 'cart_remove', 'search', 'cart_remove'])).toBe("2× cart_remove after search; cluster 'frustrated support-seeker' (churn 0.62)");
    expect(reason(['refund', 'refund', 'refund', 'search', 'checkout'], { lookback: 2 })).toBe("checkout after search; cluster 'frustrated support-seeker' (churn 0.62)");
  });

  it('still says something without steps or without a cluster, and stays on one bounded line', () => {
    expect(reason([], {}, '', 0.9)).toBe('no cluster (churn 0.90)');
    expect(reason(['x\ny'], {}, 'a\n b')).toBe("x y; cluster 'a b' (churn 0.62)");
    const long = reason(['support_contact'], { maxLength: 30 }, 'a very long cluster label that goes on');
    expect(long).toHaveLength(30);
    expect(long.endsWith('…')).toBe(true);
  });
});
