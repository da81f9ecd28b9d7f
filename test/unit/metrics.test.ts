import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { JourneylensError } from '../../src/errors.ts';
import { createMetrics, EventOutcomes, setClusterInfo, setModelInfo } from '../../src/metrics.ts';
import { repoRoot } from '../helpers/docs.ts';

// The metric families journeylens promises in the issue and in docs/operations.md.
const EXPECTED = [
  'journeylens_events_total',
  'journeylens_sessions_active',
  'journeylens_sessions_closed_total',
  'journeylens_sessions_evicted_total',
  'journeylens_sessions_max',
  'journeylens_encode_batch_size',
  'journeylens_encode_duration_seconds',
  'journeylens_assign_duration_seconds',
  'journeylens_event_to_signal_seconds',
  'journeylens_signals_total',
  'journeylens_alerts_total',
  'journeylens_dlq_total',
  'journeylens_webhook_requests_total',
  'journeylens_model_info',
  'journeylens_tensors',
  'kafka_consumergroup_lag',
  'journeylens_consumer_lag_poll_errors_total',
  'journeylens_consumer_rebalances_total',
  'journeylens_consumer_commits_total',
  'journeylens_partitions_paused',
  'journeylens_webhook_queue_depth',
  'journeylens_webhook_request_duration_seconds',
  'journeylens_webhook_parked_total',
  'journeylens_cluster_info',
  'journeylens_schema_registry_requests_total',
  'journeylens_schema_registry_up',
];

interface Family {
  name: string;
  type: string;
  help: string;
  labelNames: Set<string>;
}

// Reads the text exposition back into families: the lint below checks what Prometheus sees,
// not what the code intended.
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n')) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) helps.set(help[1]!, help[2]!);
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, { name: type[1]!, type: type[2]!, help: helps.get(type[1]!) ?? '', labelNames: new Set() });
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (sample && !line.startsWith('#')) {
      const base = [...families.keys()].find((f) => sample[1] === f || [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(sample[1]!));
      expect(base, `sample ${sample[1]} has no # TYPE line`).toBeDefined();
      for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) families.get(base!)!.labelNames.add(m[1]!);
    }
  }
  return families;
}

function exercised(): { registry: Registry; metrics: ReturnType<typeof createMetrics> } {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  metrics.eventsTotal.inc({ topic: 'clicks', outcome: EventOutcomes.processed }, 3);
  metrics.eventsTotal.inc({ topic: 'clicks', outcome: EventOutcomes.dlq });
  metrics.sessionsActive.set(12);
  metrics.sessionsClosedTotal.inc();
  metrics.sessionsEvictedTotal.inc();
  metrics.sessionsMax.set(2_097_152);
  metrics.encodeBatchSize.observe(16);
  metrics.encodeDurationSeconds.observe(0.02);
  metrics.assignDurationSeconds.observe(0.0003);
  metrics.eventToSignalSeconds.observe(0.8);
  metrics.signalsTotal.inc({ cluster: '3' });
  metrics.alertsTotal.inc({ band: 'high' });
  metrics.dlqTotal.inc({ reason: 'INPUT_INVALID' });
  metrics.webhookRequestsTotal.inc({ status: '200' });
  setModelInfo(metrics, { version: '2026.11.1', backend: 'wasm' });
  metrics.tensors.set(42);
  metrics.consumerGroupLag.set({ consumergroup: 'journeylens', topic: 'clicks', partition: '0' }, 17);
  metrics.consumerLagPollErrorsTotal.inc();
  metrics.rebalancesTotal.inc();
  metrics.commitsTotal.inc();
  metrics.partitionsPaused.set(2);
  metrics.webhookQueueDepth.set(5);
  metrics.webhookRequestDurationSeconds.observe(0.2);
  metrics.webhookParkedTotal.inc();
  setClusterInfo(metrics, [{ id: 3, label: 'frustrated support-seeker' }]);
  metrics.schemaRegistryRequestsTotal.inc({ outcome: 'ok' });
  metrics.schemaRegistryUp.set(1);
  return { registry, metrics };
}

describe('createMetrics', () => {
  it('registers every promised metric family and the default process metrics', async () => {
    const { registry } = exercised();
    const families = parseExposition(await registry.metrics());
    for (const name of EXPECTED) expect(families.has(name), name).toBe(true);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('is get-or-create: two components on one registry share the same instruments', async () => {
    const registry = new Registry();
    const a = createMetrics(registry);
    const b = createMetrics(registry);
    expect(b.eventsTotal).toBe(a.eventsTotal);
    a.eventsTotal.inc({ topic: 't', outcome: 'late' });
    b.eventsTotal.inc({ topic: 't', outcome: 'late' });
    const value = (await registry.getSingleMetric('journeylens_events_total')!.get()).values.find((v) => v.labels.outcome === 'late');
    expect(value?.value).toBe(2);
  });

  it('refuses a metric already registered with another shape, naming it', () => {
    const registry = new Registry();
    new Gauge({ name: 'journeylens_events_total', help: 'registered by someone else', registers: [registry] });
    expect(() => createMetrics(registry)).toThrow(JourneylensError);
    expect(() => createMetrics(registry)).toThrow(/metric journeylens_events_total is already registered with a different type/);
  });

  it('keeps one model_info series after a hot reload, valued 1', async () => {
    const { registry, metrics } = exercised();
    setModelInfo(metrics, { version: '2026.11.2', backend: 'cpu' });
    const values = (await registry.getSingleMetric('journeylens_model_info')!.get()).values;
    expect(values).toEqual([{ labels: { version: '2026.11.2', backend: 'cpu' }, value: 1 }]);
  });

  it('documents exactly the metrics it registers in docs/operations.md, with their labels', async () => {
    const { registry } = exercised();
    const families = parseExposition(await registry.metrics());
    const doc = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `((?:journeylens|kafka)_[a-z_]+)` \|[^|]+\|([^|]*)\|/gm)].map((m) => ({ name: m[1]!, labels: [...m[2]!.matchAll(/`([a-z_]+)`/g)].map((l) => l[1]!) }));
    expect(rows.map((r) => r.name).sort()).toEqual([...EXPECTED].sort());
    for (const { name, labels } of rows) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(labels.filter((l) => family!.labelNames.has(l)).sort(), `${name} labels in the doc`).toEqual([...family!.labelNames].filter((l) => l !== 'le').sort());
    }
  });

  it('labels consumer lag as kafka_exporter does, so its dashboards and alerts read journeylens series', async () => {
    const { registry } = exercised();
    const families = parseExposition(await registry.metrics());
    expect([...families.get('kafka_consumergroup_lag')!.labelNames].sort()).toEqual(['consumergroup', 'partition', 'topic']);
  });

  it('joins cluster ids to their labels with one cluster_info series per cluster (and one for unassigned), replaced on reload', async () => {
    const { registry, metrics } = exercised();
    setClusterInfo(metrics, [{ id: 0, label: 'browser' }, { id: 1, label: 'buyer' }]);
    const values = (await registry.getSingleMetric('journeylens_cluster_info')!.get()).values;
    expect(values.map((v) => [v.labels.cluster, v.labels.label, v.value])).toEqual([['-1', 'unassigned', 1], ['0', 'browser', 1], ['1', 'buyer', 1]]);
  });

  it('follows Prometheus naming and never labels by session or user id', async () => {
    const { registry } = exercised();
    const families = parseExposition(await registry.metrics());
    for (const f of families.values()) {
      expect(f.name, 'valid metric name').toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(f.help.length, `${f.name} has help text`).toBeGreaterThan(0);
      for (const label of f.labelNames) {
        expect(label, `${f.name} label`).toMatch(/^[a-z_][a-z0-9_]*$/);
        expect(['sessionid', 'session_id', 'session', 'userid', 'user_id', 'user', 'eventid', 'event_id']).not.toContain(label.toLowerCase());
      }
      if (f.type === 'counter') expect(f.name, 'counters end in _total').toMatch(/_total$/);
      else expect(f.name, 'only counters end in _total').not.toMatch(/_total$/);
      if (!EXPECTED.includes(f.name)) continue;
      expect(f.name, 'journeylens_ prefix or the exporter name for lag').toMatch(/^(journeylens_|kafka_consumergroup_lag$)/);
      if (/duration|latency|_to_/.test(f.name)) expect(f.name, 'durations in base unit seconds').toMatch(/_seconds$/);
      expect(f.name, 'no non-base units').not.toMatch(/_(milliseconds|ms|minutes|kilobytes|megabytes)(_|$)/);
      if (f.name.endsWith('_info')) expect(f.type).toBe('gauge');
    }
  });

  it('uses ascending histogram buckets that cover the expected range', async () => {
    const { registry } = exercised();
    const text = await registry.metrics();
    const bounds = (name: string): number[] =>
      [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}`, 'gm'))].map((m) => (m[1] === '+Inf' ? Infinity : Number(m[1])));
    const e2e = bounds('journeylens_event_to_signal_seconds');
    expect(e2e).toEqual([...e2e].sort((a, b) => a - b));
    expect(e2e[0]).toBeLessThanOrEqual(0.1);
    expect(e2e.at(-2)).toBeGreaterThanOrEqual(300);
    expect(bounds('journeylens_assign_duration_seconds')[0]).toBeLessThanOrEqual(0.0001);
    expect(bounds('journeylens_encode_batch_size')[0]).toBe(1);
  });
});
