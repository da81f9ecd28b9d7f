// Fills `kafka_consumergroup_lag{consumergroup,topic,partition}` from the brokers, named and
// labelled as kafka_exporter does (so its dashboards and alerts work on journeylens' series):
// high watermark minus the group's committed offset, per partition. Each process reports only the partitions assigned to
// it (when the caller says which), so `sum(kafka_consumergroup_lag)` over all pods counts each
// partition once; dashboards use `max by (topic, partition)` to stay right during rebalances.
import { type Admin } from 'kafkajs';
import { type Metrics } from '../metrics.ts';
import { tpKey } from './checkpoint/topic-partition.ts';

/** The two admin calls lag needs; a kafkajs Admin satisfies it. */
export type LagAdmin = Pick<Admin, 'fetchOffsets' | 'fetchTopicOffsets'>;

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

export interface ConsumerLagOptions {
  groupId: string;
  topics: string[];
  /** The partitions this member owns, by topic; omitted = every partition of `topics`. */
  assignment?: Record<string, number[]>;
}

/** Reads offsets once, replaces the gauge's series with the result and returns it. */
export async function updateConsumerLag(metrics: Metrics, admin: LagAdmin, options: ConsumerLagOptions): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: options.topics });
  const committedBy = new Map<string, number>();
  for (const t of committed) for (const p of t.partitions) committedBy.set(tpKey(t.topic, p.partition), Number(p.offset));

  const result: PartitionLag[] = [];
  for (const topic of options.topics) {
    const owned = options.assignment ? new Set(options.assignment[topic] ?? []) : undefined;
    for (const o of await admin.fetchTopicOffsets(topic)) {
      if (owned && !owned.has(o.partition)) continue;
      const high = Number(o.high);
      const offset = committedBy.get(tpKey(topic, o.partition)) ?? -1;
      // No committed offset yet (-1): everything still retained is unconsumed.
      const from = offset >= 0 ? offset : Number(o.low);
      result.push({ topic, partition: o.partition, lag: Math.max(0, high - from) });
    }
  }
  // Replace, not merge: partitions moved to another member by a rebalance must disappear here.
  metrics.consumerGroupLag.reset();
  for (const r of result) metrics.consumerGroupLag.set({ consumergroup: options.groupId, topic: r.topic, partition: String(r.partition) }, r.lag);
  return result;
}

export interface ConsumerLagPoller {
  stop(): void;
}

export interface ConsumerLagPollerSettings {
  /** Default 15 s. */
  intervalMs?: number;
  /** Connects the admin client; retried before each poll until it succeeds once. */
  connect?: () => Promise<void>;
  /** Told about each failed poll (e.g. a warn log), after it was counted. */
  onError?: (err: unknown) => void;
}

/**
 * Calls updateConsumerLag every `intervalMs`. `options` is a function so the current assignment
 * is read at each poll. A failed poll (connecting included) is counted in
 * journeylens_consumer_lag_poll_errors_total and handed to `onError`; the previous values stay,
 * since a broker hiccup should not look like zero lag.
 */
export function startConsumerLagPoller(metrics: Metrics, admin: LagAdmin, options: () => ConsumerLagOptions, settings: ConsumerLagPollerSettings = {}): ConsumerLagPoller {
  let running = false;
  let connected = settings.connect === undefined;
  const pollOnce = async (): Promise<void> => {
    if (!connected) {
      await settings.connect?.();
      connected = true;
    }
    await updateConsumerLag(metrics, admin, options());
  };
  const poll = (): void => {
    if (running) return;
    running = true;
    pollOnce()
      .catch((err: unknown) => {
        metrics.consumerLagPollErrorsTotal.inc();
        settings.onError?.(err);
      })
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(poll, settings.intervalMs ?? 15_000);
  // Lag reporting must never keep a shutting-down process alive.
  timer.unref();
  poll();
  return { stop: () => clearInterval(timer) };
}
