import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { type LagAdmin, startConsumerLagPoller, updateConsumerLag } from '../../../src/processor/consumer-lag.ts';
import { createMetrics } from '../../../src/metrics.ts';

// An admin stub with kafkajs' response shapes (offsets are strings; -1 = no committed offset).
function admin(committed: Record<string, string[]>, watermarks: Record<string, [low: string, high: string][]>): LagAdmin & { calls: number } {
  const stub = {
    calls: 0,
    fetchOffsets: async ({ topics }: { groupId: string; topics?: string[] }) => {
      stub.calls += 1;
      return (topics ?? []).map((topic) => ({ topic, partitions: (committed[topic] ?? []).map((offset, partition) => ({ partition, offset, metadata: null })) }));
    },
    fetchTopicOffsets: async (topic: string) => (watermarks[topic] ?? []).map(([low, high], partition) => ({ partition, offset: high, low, high })),
  };
  return stub as unknown as LagAdmin & { calls: number };
}

async function gauge(registry: Registry): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric('kafka_consumergroup_lag')!.get()).values;
  return Object.fromEntries(values.map((v) => [`${v.labels.consumergroup}:${v.labels.topic}/${v.labels.partition}`, v.value]));
}

describe('updateConsumerLag', () => {
  it('sets high watermark minus committed offset per partition', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const a = admin({ clicks: ['90', '-1', '500'] }, { clicks: [['0', '100'], ['20', '50'], ['0', '500']] });
    const lag = await updateConsumerLag(metrics, a, { groupId: 'g', topics: ['clicks'] });
    // partition 1 has no commit: everything from the low watermark is unconsumed
    expect(lag).toEqual([
      { topic: 'clicks', partition: 0, lag: 10 },
      { topic: 'clicks', partition: 1, lag: 30 },
      { topic: 'clicks', partition: 2, lag: 0 },
    ]);
    expect(await gauge(registry)).toEqual({ 'g:clicks/0': 10, 'g:clicks/1': 30, 'g:clicks/2': 0 });
  });

  it('reports only the assigned partitions and drops partitions lost in a rebalance', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const a = admin({ clicks: ['1', '2', '3'] }, { clicks: [['0', '10'], ['0', '10'], ['0', '10']] });
    await updateConsumerLag(metrics, a, { groupId: 'g', topics: ['clicks'], assignment: { clicks: [0, 2] } });
    expect(await gauge(registry)).toEqual({ 'g:clicks/0': 9, 'g:clicks/2': 7 });
    await updateConsumerLag(metrics, a, { groupId: 'g', topics: ['clicks'], assignment: { clicks: [1] } });
    expect(await gauge(registry)).toEqual({ 'g:clicks/1': 8 });
  });
});

describe('startConsumerLagPoller', () => {
  it('polls at the interval, reports errors and keeps the last values', async () => {
    vi.useFakeTimers();
    try {
      const registry = new Registry();
      const metrics = createMetrics(registry);
      const a = admin({ clicks: ['5'] }, { clicks: [['0', '8']] });
      const errors: unknown[] = [];
      const poller = startConsumerLagPoller(metrics, a, () => ({ groupId: 'g', topics: ['clicks'] }), { intervalMs: 1000, onError: (e) => errors.push(e) });
      await vi.advanceTimersByTimeAsync(0);
      expect(a.calls).toBe(1);
      expect(await gauge(registry)).toEqual({ 'g:clicks/0': 3 });
      a.fetchOffsets = async () => {
        throw new Error('broker down');
      };
      await vi.advanceTimersByTimeAsync(1000);
      expect(errors).toHaveLength(1);
      expect(await gauge(registry)).toEqual({ 'g:clicks/0': 3 });
      expect((await metrics.consumerLagPollErrorsTotal.get()).values[0]?.value).toBe(1);
      poller.stop();
      await vi.advanceTimersByTimeAsync(5000);
      expect(errors).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts a failed connect as a failed poll and connects again at the next one', async () => {
    vi.useFakeTimers();
    try {
      const registry = new Registry();
      const metrics = createMetrics(registry);
      const a = admin({ clicks: ['1'] }, { clicks: [['0', '4']] });
      let attempts = 0;
      const connect = async () => {
        if (++attempts === 1) throw new Error('Connection timeout');
      };
      const errors: string[] = [];
      const poller = startConsumerLagPoller(metrics, a, () => ({ groupId: 'g', topics: ['clicks'] }), { intervalMs: 1000, connect, onError: (e) => errors.push((e as Error).message) });
      await vi.advanceTimersByTimeAsync(0);
      expect(errors).toEqual(['Connection timeout']);
      expect(a.calls).toBe(0);
      await vi.advanceTimersByTimeAsync(1000);
      expect(attempts).toBe(2);
      expect(await gauge(registry)).toEqual({ 'g:clicks/0': 3 });
      await vi.advanceTimersByTimeAsync(1000);
      expect(attempts).toBe(2);
      expect((await metrics.consumerLagPollErrorsTotal.get()).values[0]?.value).toBe(1);
      poller.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
