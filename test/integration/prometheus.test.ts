// A real Prometheus server (Debian package) scrapes a running processor; its HTTP API then
// answers for journeylens_events_total, and promtool accepts our exposition.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';
import { promtoolCheckMetrics, startPrometheus } from '../helpers/prometheus.ts';

const brokers = inject('kafkaBrokers');

describe('metrics scraped by a real Prometheus', () => {
  it('exposes journeylens_events_total > 0 to Prometheus while processing, and passes promtool', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals]);
    const t0 = Date.UTC(2026, 10, 1);
    await produce(
      kafka,
      input,
      Array.from({ length: 500 }, (_, i) => ({ key: `s${i % 20}`, value: JSON.stringify({ eventId: `e${i}`, sessionId: `s${i % 20}`, userId: null, timestamp: t0 + i * 1000, type: 'page_view', page: '/', durationMs: 100, value: null, properties: {} }) })),
    );
    const flags = { brokers, input, signalsTopic: signals, group: uniqueName('g'), metricsPort: '0', metricsHost: '127.0.0.1', outputFormat: 'json' };
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: 'error' }) });
    onTestFinished(() => app.stop());

    const prometheus = await startPrometheus({ targets: [`127.0.0.1:${app.ops.port}`] });
    onTestFinished(() => prometheus.stop());
    const samples = await prometheus.waitFor('sum(journeylens_events_total{outcome="processed"})', { accept: (v) => v >= 500 });
    expect(samples[0]?.value).toBe(500);
    const signalsSeen = await prometheus.waitFor('sum(journeylens_signals_total)');
    expect(signalsSeen[0]?.value).toBeGreaterThan(0);

    const exposition = await (await fetch(`${app.ops.url}/metrics`)).text();
    const check = promtoolCheckMetrics(exposition);
    expect(check.problems).toBe('');
    expect(check.ok).toBe(true);
    expect(exposition).not.toMatch(/sessionId|userId/);
    const ready = await fetch(`${app.ops.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
