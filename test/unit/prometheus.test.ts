// A real Prometheus (Debian package, installed on first use) scrapes the ops server: proves
// the exposition is accepted end to end and that the names lint clean with promtool.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsServer, startOpsServer } from '../../src/http.ts';
import { createMetrics, setClusterInfo, setModelInfo } from '../../src/metrics.ts';
import { dashboardExpressions, substituteVariables } from '../helpers/dashboard.ts';
import { ensurePrometheus, type PrometheusServer, promtoolCheckMetrics, startPrometheus } from '../helpers/prometheus.ts';

let ops: OpsServer;
let prometheus: PrometheusServer | undefined;
const registry = new Registry();

beforeAll(async () => {
  ensurePrometheus();
  const metrics = createMetrics(registry);
  metrics.eventsTotal.inc({ topic: 'clicks', outcome: 'processed' }, 7);
  metrics.eventToSignalSeconds.observe(0.4);
  metrics.consumerGroupLag.set({ consumergroup: 'journeylens', topic: 'clicks', partition: '0' }, 3);
  setModelInfo(metrics, { version: 'test', backend: 'cpu' });
  setClusterInfo(metrics, [{ id: 3, label: 'frustrated support-seeker' }]);
  metrics.signalsTotal.inc({ cluster: '3' }, 4);
  ops = await startOpsServer({ registry, host: '127.0.0.1', port: 0 });
}, 300_000);

afterAll(async () => {
  await prometheus?.stop();
  await ops?.stop();
});

describe('Prometheus scraping the ops server', () => {
  it('ingests journeylens_events_total and answers a PromQL query with it', async () => {
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${ops.port}`] });
    const samples = await prometheus.waitFor('sum(journeylens_events_total{outcome="processed"})');
    expect(samples[0]!.value).toBe(7);
    const [target] = await prometheus.targets();
    expect(target).toMatchObject({ scrapeUrl: `http://127.0.0.1:${ops.port}/metrics`, health: 'up' });
    const lag = await prometheus.query('kafka_consumergroup_lag');
    expect(lag.map((s) => [s.metric.topic, s.metric.partition, s.value])).toEqual([['clicks', '0', 3]]);
  }, 60_000);

  it('evaluates every dashboard query without error, and the core panels return data', async () => {
    expect(prometheus).toBeDefined();
    const p = prometheus!;
    // Two scrapes at least, so rate() over the histogram has samples to work with.
    await p.waitFor('count_over_time(journeylens_events_total[1m])', { accept: (v) => v >= 2 });
    for (const { panel, expr } of dashboardExpressions()) {
      await expect(p.query(substituteVariables(expr)), `${panel}: ${expr}`).resolves.toBeInstanceOf(Array);
    }
    await expect(p.query('sum(rate(journeylens_events_total[1m])'), 'a broken query is reported').rejects.toThrow(/parse error/);
    const lag = dashboardExpressions().find((e) => e.panel === 'Consumer lag by partition')!;
    expect((await p.query(substituteVariables(lag.expr))).map((s) => s.value)).toEqual([3]);
    // the cluster mix carries the bundle's label for the cluster id, from journeylens_cluster_info
    const mix = dashboardExpressions().find((e) => e.panel === 'Cluster mix')!;
    const named = await p.query(substituteVariables(mix.expr));
    expect(named.map((s) => [s.metric.cluster, s.metric.label])).toEqual([['3', 'frustrated support-seeker']]);
  }, 60_000);

  it('leaves no prometheus process behind after stop()', async () => {
    const p = await startPrometheus({ targets: [`127.0.0.1:${ops.port}`] });
    expect(alive(p.pid)).toBe(true);
    await p.stop();
    await p.stop();
    expect(alive(p.pid)).toBe(false);
  }, 60_000);
});

describe('promtool check metrics', () => {
  it('passes on our /metrics output', async () => {
    const text = await (await fetch(`${ops.url}/metrics`)).text();
    const result = promtoolCheckMetrics(text);
    expect(result.problems).toBe('');
    expect(result.ok).toBe(true);
  });

  it('does flag a badly named metric (the lint is live)', () => {
    const bad = '# HELP journeylens_latency_ms x\n# TYPE journeylens_latency_ms counter\njourneylens_latency_ms 1\n';
    const result = promtoolCheckMetrics(bad);
    expect(result.ok).toBe(false);
    expect(result.problems).toMatch(/_total/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
