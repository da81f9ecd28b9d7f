// Prometheus metrics of the webhook sink. Get-or-create on the given registry, so the sink can
// be rebuilt (config reload, tests) without "metric already registered" errors.
import { Counter, Histogram, type Registry } from 'prom-client';
import { type WebhookMetrics } from './webhook.ts';

export function webhookMetrics(registry: Registry): WebhookMetrics {
  const requests = getOrCreate(
    registry,
    'journeylens_webhook_requests_total',
    () =>
      new Counter({
        name: 'journeylens_webhook_requests_total',
        help: 'Webhook POST attempts by outcome: the HTTP status code, or "timeout" / "error" when no response came.',
        labelNames: ['status'],
        registers: [registry],
      }),
  );
  const duration = getOrCreate(
    registry,
    'journeylens_webhook_request_duration_seconds',
    () =>
      new Histogram({
        name: 'journeylens_webhook_request_duration_seconds',
        help: 'Time from sending a webhook POST to its response (or its failure).',
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  );
  const parked = getOrCreate(
    registry,
    'journeylens_webhook_parked_total',
    () =>
      new Counter({
        name: 'journeylens_webhook_parked_total',
        help: 'Alerts handed to the parking topic after the webhook gave up on them.',
        registers: [registry],
      }),
  );
  return {
    request(status, seconds) {
      requests.inc({ status });
      duration.observe(seconds);
    },
    parked() {
      parked.inc();
    },
  };
}

function getOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
