// The chart's PrometheusRule: rendered by helm, accepted by `promtool check rules`, naming only
// metrics journeylens (or kafka_exporter, for lag) exposes, and each alert fires, and stays quiet,
// when `promtool test rules` replays series that should (and should not) trigger it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { createMetrics } from '../../src/metrics.ts';
import { metricNames } from '../helpers/dashboard.ts';
import { ensurePrometheus, promtoolCheckRules, promtoolTestRules } from '../helpers/prometheus.ts';
import { ensureTool } from '../helpers/tools.ts';

const chart = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'helm', 'journeylens');
let helm = '';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function renderRules(args: string[] = []): { kind: string; spec?: { groups: { name: string; rules: Rule[] }[] } }[] {
  const out = execFileSync(helm, ['template', 'jl', chart, '--namespace', 'analytics', ...args], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as { kind: string; spec?: { groups: { name: string; rules: Rule[] }[] } } | null)
    .filter((m): m is { kind: string; spec?: { groups: { name: string; rules: Rule[] }[] } } => m !== null && m.kind === 'PrometheusRule');
}

let dir = '';
let rulesFile = '';
let rules: Rule[] = [];

beforeAll(() => {
  helm = ensureTool('ensure-helm.mjs');
  ensurePrometheus();
  const [rule] = renderRules(['--set', 'prometheusRule.enabled=true']);
  dir = mkdtempSync(join(tmpdir(), 'jl-rules-'));
  rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, stringify({ groups: rule!.spec!.groups }));
  rules = rule!.spec!.groups.flatMap((g) => g.rules);
}, 1_200_000);

describe('the PrometheusRule in the chart', () => {
  it('is rendered only when enabled, with the labels Prometheus selects rules by', () => {
    expect(renderRules()).toEqual([]);
    const [r] = renderRules(['--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.labels.release=prom']);
    expect((r as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels.release).toBe('prom');
  });

  it('passes promtool check rules', () => {
    const res = promtoolCheckRules(rulesFile);
    expect(res.output).toMatch(/SUCCESS: 6 rules found/);
    expect(res.ok).toBe(true);
  });

  it('alerts on lag growing, DLQ rate, no signals, parked alerts, the registry down and failing lag polls', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'JourneylensConsumerLagGrowing',
      'JourneylensDeadLettersHigh',
      'JourneylensNoSignals',
      'JourneylensAlertsParked',
      'JourneylensSchemaRegistryDown',
      'JourneylensLagPollFailing',
    ]);
    for (const r of rules) {
      expect(r.labels.severity, r.alert).toBeTruthy();
      expect(r.annotations.summary, r.alert).toBeTruthy();
    }
  });

  it('names only metrics journeylens registers', async () => {
    const registry = new Registry();
    createMetrics(registry);
    const exposed = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(rules.flatMap((r) => metricNames(r.expr.replace(/\bvector\(0\)/g, ''))));
    expect([...used].sort()).toEqual([
      'journeylens_consumer_lag_poll_errors_total',
      'journeylens_dlq_total',
      'journeylens_events_total',
      'journeylens_schema_registry_up',
      'journeylens_signals_total',
      'journeylens_webhook_parked_total',
      'kafka_consumergroup_lag',
    ]);
    for (const name of used) expect(exposed.has(name), name).toBe(true);
  });

  it('fires each alert on series that should trigger it, and not on series that should not (promtool test rules)', () => {
    const job = 'job="jl-journeylens"';
    const lag = (partition: number, values: string) => ({ series: `kafka_consumergroup_lag{consumergroup="journeylens",topic="clicks",partition="${partition}",${job}}`, values });
    const tests = [
      {
        // partition 0 grows 100/min from 1000; partition 1 stays at 50: the group falls behind on clicks
        interval: '1m',
        input_series: [lag(0, '1000+100x60'), lag(1, '50x60'), { series: `journeylens_signals_total{cluster="1",${job}}`, values: '0+10x60' }],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'JourneylensConsumerLagGrowing', exp_alerts: [] },
          { eval_time: '40m', alertname: 'JourneylensConsumerLagGrowing', exp_alerts: [{ exp_labels: { severity: 'warning', consumergroup: 'journeylens', topic: 'clicks' } }] },
          { eval_time: '40m', alertname: 'JourneylensNoSignals', exp_alerts: [] },
        ],
      },
      {
        // a large but steady lag is a backlog being worked through at the rate it fills, not an alert
        interval: '1m',
        input_series: [lag(0, '5000x60'), { series: `journeylens_signals_total{cluster="1",${job}}`, values: '0+10x60' }],
        alert_rule_test: [{ eval_time: '50m', alertname: 'JourneylensConsumerLagGrowing', exp_alerts: [] }],
      },
      {
        // 2 dead letters/s for 20 minutes, then none
        interval: '1m',
        input_series: [{ series: `journeylens_dlq_total{reason="not_json",${job}}`, values: '0+120x20 2400x20' }],
        alert_rule_test: [
          { eval_time: '8m', alertname: 'JourneylensDeadLettersHigh', exp_alerts: [] },
          { eval_time: '18m', alertname: 'JourneylensDeadLettersHigh', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          { eval_time: '35m', alertname: 'JourneylensDeadLettersHigh', exp_alerts: [] },
        ],
      },
      {
        // events keep arriving, the signal counter stops at 30 min
        interval: '1m',
        input_series: [
          { series: `journeylens_events_total{topic="clicks",outcome="processed",${job}}`, values: '0+60x60' },
          { series: `journeylens_signals_total{cluster="2",${job}}`, values: '0+5x30 150x30' },
        ],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'JourneylensNoSignals', exp_alerts: [] },
          { eval_time: '50m', alertname: 'JourneylensNoSignals', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
        ],
      },
      {
        // no traffic at all (night): no signals is expected, not an alert
        interval: '1m',
        input_series: [{ series: `journeylens_events_total{topic="clicks",outcome="processed",${job}}`, values: '100x60' }, lag(0, '0x60')],
        alert_rule_test: [{ eval_time: '50m', alertname: 'JourneylensNoSignals', exp_alerts: [] }],
      },
      {
        interval: '1m',
        input_series: [
          { series: `journeylens_webhook_parked_total{${job}}`, values: '0x10 1x30' },
          { series: `journeylens_schema_registry_up{${job}}`, values: '1x10 0x10 1x10' },
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'JourneylensAlertsParked', exp_alerts: [] },
          { eval_time: '12m', alertname: 'JourneylensAlertsParked', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          { eval_time: '35m', alertname: 'JourneylensAlertsParked', exp_alerts: [] },
          { eval_time: '13m', alertname: 'JourneylensSchemaRegistryDown', exp_alerts: [] },
          { eval_time: '17m', alertname: 'JourneylensSchemaRegistryDown', exp_alerts: [{ exp_labels: { severity: 'warning' } }] },
          { eval_time: '25m', alertname: 'JourneylensSchemaRegistryDown', exp_alerts: [] },
        ],
      },
    ];
    // promtool compares annotations too; these tests are about when an alert fires, so the rules
    // replayed here are the rendered ones without their (templated) annotations.
    const bare = join(dir, 'rules-without-annotations.yaml');
    writeFileSync(bare, stringify({ groups: [{ name: 'journeylens', rules: rules.map(({ annotations: _a, ...r }) => r) }] }));
    const testFile = join(dir, 'rules.test.yaml');
    writeFileSync(testFile, stringify({ rule_files: [bare], evaluation_interval: '1m', tests }));
    const res = promtoolTestRules(testFile);
    expect(res.output).toMatch(/SUCCESS/);
    expect(res.ok).toBe(true);
  });

  it('takes its thresholds and the series selector from values', () => {
    const [r] = renderRules(['--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.deadLetters.ratePerSecond=5', '--set-string', 'prometheusRule.selector=service="jl"', '--set', 'kafka.groupId=jl-prod']);
    const byName = Object.fromEntries(r!.spec!.groups[0]!.rules.map((x) => [x.alert, x]));
    expect(byName.JourneylensDeadLettersHigh!.expr).toContain('sum(rate(journeylens_dlq_total{service="jl"}[5m])) > 5');
    expect(byName.JourneylensConsumerLagGrowing!.expr).toContain('kafka_consumergroup_lag{consumergroup="jl-prod"}');
  });
});
