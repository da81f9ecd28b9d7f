import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';
import { dashboardExpressions, loadDashboard, metricNames } from '../helpers/dashboard.ts';

// Every series name the registry exposes, including the _bucket/_sum/_count of histograms.
async function exposedSeriesNames(): Promise<Set<string>> {
  const registry = new Registry();
  createMetrics(registry);
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (['histogram', 'summary'].includes(String(m.type))) for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
}

describe('dashboards/journeylens.json', () => {
  const dashboard = loadDashboard();
  const exprs = dashboardExpressions(dashboard);

  it('references only metrics that createMetrics registers', async () => {
    const exposed = await exposedSeriesNames();
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed.has(name), `${panel} uses unknown metric ${name}`).toBe(true);
    }
  });

  it('covers throughput, lag, latency percentiles, cluster mix, alerts, DLQ and tensors', () => {
    const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
    for (const m of ['journeylens_events_total', 'kafka_consumergroup_lag', 'journeylens_event_to_signal_seconds_bucket', 'journeylens_signals_total', 'journeylens_alerts_total', 'journeylens_dlq_total', 'journeylens_tensors']) {
      expect(used.has(m), m).toBe(true);
    }
    const quantiles = exprs.filter((e) => e.expr.includes('journeylens_event_to_signal_seconds_bucket')).map((e) => /histogram_quantile\(([\d.]+)/.exec(e.expr)?.[1]);
    expect(quantiles).toEqual(expect.arrayContaining(['0.5', '0.95', '0.99']));
  });

  it('names clusters through journeylens_cluster_info wherever it shows signals by cluster', () => {
    const byCluster = exprs.filter((e) => /journeylens_signals_total/.test(e.expr) && /by \(cluster\)/.test(e.expr));
    expect(byCluster.map((e) => e.panel).sort()).toEqual(['Cluster mix', 'Cluster mix over time']);
    for (const { panel, expr } of byCluster) expect(expr, panel).toMatch(/\* on \(cluster\) group_left \(label\) .*journeylens_cluster_info/);
    const legends = dashboard.panels.filter((p) => byCluster.some((e) => e.panel === p.title)).flatMap((p) => (p.targets ?? []).map((t) => (t as { legendFormat?: string }).legendFormat));
    for (const l of legends) expect(l).toContain('{{label}}');
  });

  it('shows the operator metrics: rebalances, commits, paused partitions, registry, webhook queue, lag poll errors', () => {
    const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
    for (const m of ['journeylens_consumer_rebalances_total', 'journeylens_consumer_commits_total', 'journeylens_partitions_paused', 'journeylens_schema_registry_up', 'journeylens_webhook_queue_depth', 'journeylens_webhook_parked_total', 'journeylens_consumer_lag_poll_errors_total']) {
      expect(used.has(m), m).toBe(true);
    }
  });

  it('never groups or filters by session or user id', () => {
    for (const { expr } of exprs) {
      const labels = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)|\{([^}]*)\}/g)].map((m) => m[1] ?? m[2]).join(' ');
      expect(labels.length, expr).toBeGreaterThan(0);
      expect(labels, expr).not.toMatch(/session|user/i);
    }
  });

  it('is a well-formed dashboard: unique panel ids, grid inside 24 columns, a Prometheus datasource variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'instance']);
    expect(dashboard.uid).toBe('journeylens-overview');
  });

  it('extracts metric names from PromQL, ignoring labels, functions and ranges', () => {
    expect(metricNames('sum by (outcome) (rate(journeylens_events_total{job=~"$job", outcome="dlq"}[$__rate_interval]))')).toEqual(['journeylens_events_total']);
    expect(metricNames('sum(rate(a_sum[1m])) / sum(rate(a_count[1m]))')).toEqual(['a_sum', 'a_count']);
    expect(metricNames('sum by (cluster) (a_total) * on (cluster) group_left (label) topk by (cluster) (1, b_info)')).toEqual(['a_total', 'b_info']);
  });
});
