// Reads dashboards/journeylens.json: its PromQL expressions, the metric names they use, and
// the expressions with Grafana's variables replaced so Prometheus can evaluate them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; query?: unknown }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(join(root, 'dashboards', 'journeylens.json'), 'utf8')) as Dashboard;
}

export function dashboardExpressions(d: Dashboard = loadDashboard()): { panel: string; expr: string }[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'increase', 'irate', 'histogram_quantile', 'label_values', 'le', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'topk', 'bottomk', 'quantile', 'delta', 'deriv', 'abs', 'clamp_min', 'clamp_max']);

/** Metric names an expression selects (label names inside {} and by (...) are skipped). */
export function metricNames(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/"[^"]*"/g, ' ');
  const names = withoutLabels.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n) && !/^\d/.test(n) && !n.startsWith('$')))];
}

/** Replaces Grafana's variables with values Prometheus accepts. */
export function substituteVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval/g, '1m')
    .replace(/\$__range/g, '5m')
    .replace(/\$__interval/g, '15s')
    .replace(/\$(job|instance)\b/g, '.*');
}
