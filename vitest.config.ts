import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './test/summary-reporter.ts';

// Two tiers, both run by `npm test`: unit (no broker) and integration (a real Kafka broker,
// started once in test/integration/global-setup.ts unless KAFKA_BROKERS points at a cluster).
export default defineConfig({
  test: {
    reporters: ['default', new SummaryReporter()],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
