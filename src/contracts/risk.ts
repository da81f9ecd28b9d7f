// The one risk setting: where the medium and high bands begin. The readout's riskBand (in every
// JourneySignal) and the alert policy's bands are both computed from it, so a signal's band and
// an alert can never disagree (issue 19: they were 0.4/0.7 and 0.5/0.75).
//
// A bound is either a churn probability ("high=0.7") or an alert budget ("high=top5%": the
// riskiest 5 % of sessions). A budget is turned into a probability when a bundle is loaded, from
// the distribution of risk the bundle stored at training time (out-of-fold, each training
// session's highest risk over its scored states), so a CRM team chooses a volume of alerts, not a
// number it cannot interpret. Probabilities on real data are packed near the base rate (on KDD
// every fixed threshold from 0.4 to 0.75 flagged 74–97 % of sessions), which is why budgets exist.
import { ErrorCodes, UserError } from '../errors.ts';
import { RISK_BANDS, type RiskBand } from './records.ts';

export interface RiskThresholds {
  /** Risk at or above this is 'medium'. */
  medium: number;
  /** Risk at or above this is 'high'. */
  high: number;
}

/** A band's lower bound: a probability, or the share of sessions that should reach the band. */
export type RiskBound = { probability: number } | { topShare: number };

export interface RiskSetting {
  medium: RiskBound;
  high: RiskBound;
}

/** The setting's text when none is given (flag --risk, env JOURNEYLENS_RISK, `journeylens eval --risk`). */
export const RISK_SETTING_DEFAULT = 'medium=0.4,high=0.7';

export const RISK_SETTING_HELP =
  'where the medium and high risk bands begin, for signals and alerts alike: "medium=0.4,high=0.7" (churn probabilities), ' +
  'or alert budgets "medium=top20%,high=top5%" (the riskiest 20 % / 5 % of sessions, from the model bundle\'s stored risk distribution); the two kinds can be mixed';

function invalid(option: string, message: string): UserError {
  return new UserError(ErrorCodes.CONFIG_INVALID, `${option} ${message}`, { exitCode: 2 });
}

/**
 * Parses "medium=0.4,high=0.7", "medium=top20%,high=top5%" or a mix. `option` names the setting
 * in messages (e.g. "--risk (env JOURNEYLENS_RISK)").
 */
export function parseRiskSetting(text: string, option = '--risk'): RiskSetting {
  const example = `; e.g. "${RISK_SETTING_DEFAULT}" or "medium=top20%,high=top5%".`;
  const bounds: Partial<Record<'medium' | 'high', RiskBound>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(medium|high)\s*=\s*(.+)$/.exec(part);
    if (!m) throw invalid(option, `must be band=bound pairs for the bands medium and high, got "${part}"${example}`);
    const band = m[1] as 'medium' | 'high';
    if (bounds[band]) throw invalid(option, `names ${band} twice${example}`);
    const value = m[2]!.trim();
    const top = /^top\s*([0-9]*\.?[0-9]+)\s*%$/.exec(value);
    if (top) {
      const share = Number(top[1]) / 100;
      if (!(share > 0 && share < 1)) throw invalid(option, `${band}=${value}: a budget must be a share of sessions above 0 % and below 100 %${example}`);
      bounds[band] = { topShare: share };
    } else {
      const p = /^[0-9]*\.?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
      if (!(p > 0 && p <= 1)) throw invalid(option, `${band}=${value}: a bound must be a churn probability in (0, 1] or a budget such as top5%${example}`);
      bounds[band] = { probability: p };
    }
  }
  if (!bounds.medium || !bounds.high) throw invalid(option, `must give both medium and high, got "${text}"${example}`);
  const setting = { medium: bounds.medium, high: bounds.high };
  if ('probability' in setting.medium && 'probability' in setting.high && !(setting.medium.probability < setting.high.probability)) {
    throw invalid(option, `medium (${setting.medium.probability}) must be below high (${setting.high.probability})${example}`);
  }
  if ('topShare' in setting.medium && 'topShare' in setting.high && !(setting.medium.topShare > setting.high.topShare)) {
    throw invalid(option, `the medium budget (${pct(setting.medium.topShare)}) must be larger than the high budget (${pct(setting.high.topShare)}): every high session is also past medium${example}`);
  }
  return setting;
}

const pct = (share: number): string => `top${Number((share * 100).toPrecision(6))}%`;

export function formatRiskSetting(s: RiskSetting): string {
  const f = (b: RiskBound) => ('probability' in b ? String(b.probability) : pct(b.topShare));
  return `medium=${f(s.medium)},high=${f(s.high)}`;
}

export const riskThresholdDefaults: RiskThresholds = { medium: 0.4, high: 0.7 };

export function checkRiskThresholds(t: RiskThresholds, source = 'risk thresholds'): RiskThresholds {
  if (!(t.medium > 0 && t.medium < t.high && t.high <= 1)) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${source} must satisfy 0 < medium < high <= 1, got medium=${t.medium}, high=${t.high}`, { exitCode: 2 });
  }
  return t;
}

/**
 * Value of an ascending quantile table `q` (q[i] is the quantile at i/(q.length−1)) at `level`
 * in [0, 1], interpolated linearly.
 */
export function quantileAt(q: readonly number[], level: number): number {
  const pos = Math.min(1, Math.max(0, level)) * (q.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(q.length - 1, lo + 1);
  return q[lo]! + (q[hi]! - q[lo]!) * (pos - lo);
}

/**
 * The thresholds a setting means for one bundle. `quantiles`: the bundle's stored distribution
 * of each training session's highest risk (readout.json `riskDistribution.sessionMaxRisk`), needed only
 * for budgets; `source` names where the setting came from in messages.
 */
export function resolveRiskSetting(setting: RiskSetting, quantiles: readonly number[] | undefined, source = '--risk'): RiskThresholds {
  const resolve = (band: 'medium' | 'high'): number => {
    const b = setting[band];
    if ('probability' in b) return b.probability;
    if (!quantiles || quantiles.length < 2) {
      throw new UserError(
        ErrorCodes.CONFIG_INVALID,
        `${source} ${band}=${pct(b.topShare)} needs the risk distribution a bundle stores when it is trained, and this bundle has none; retrain it with this version, or give ${band} as a probability (e.g. ${band}=${riskThresholdDefaults[band]}).`,
        { exitCode: 2 },
      );
    }
    return quantileAt(quantiles, 1 - b.topShare);
  };
  const t = { medium: resolve('medium'), high: resolve('high') };
  if (!(t.medium < t.high)) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `${source} "${formatRiskSetting(setting)}" gives medium ${t.medium.toFixed(4)} and high ${t.high.toFixed(4)} for this bundle; medium must be below high: choose bounds further apart.`,
      { exitCode: 2 },
    );
  }
  return checkRiskThresholds(t, source);
}

export function riskBand(risk: number, thresholds: RiskThresholds = riskThresholdDefaults): RiskBand {
  if (risk >= thresholds.high) return RISK_BANDS[2];
  if (risk >= thresholds.medium) return RISK_BANDS[1];
  return RISK_BANDS[0];
}
