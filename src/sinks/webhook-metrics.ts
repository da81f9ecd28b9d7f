// The webhook sink's metrics on a prom-client registry, from the one metric list in
// src/metrics.ts (get-or-create, so a sink rebuilt on the same registry reuses them).
import { type Registry } from 'prom-client';
import { createMetrics } from '../metrics.ts';
import { type WebhookMetrics } from './webhook.ts';

export function webhookMetrics(registry: Registry): WebhookMetrics {
  const m = createMetrics(registry);
  return {
    request(status, seconds) {
      m.webhookRequestsTotal.inc({ status });
      m.webhookRequestDurationSeconds.observe(seconds);
    },
    parked() {
      m.webhookParkedTotal.inc();
    },
    held(count) {
      m.webhookQueueDepth.set(count);
    },
  };
}
