// Every Prometheus metric journeylens exposes, created on a registry the caller passes in.
// Creation is get-or-create, so the consumer, the model and the sinks can each call
// createMetrics(registry) on one shared registry and get the same instruments back.
// Naming follows Prometheus conventions: `journeylens_` prefix, base units (seconds),
// counters end in `_total`, `_info` for metadata; Kafka lag is named as the exporters name it.
// Label values are bounded sets (topic, partition, outcome, cluster, band, reason, status):
// never a session or user id, which would create one time series per visitor.
import { Counter, Gauge, Histogram, type Metric, type Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCodes, JourneylensError } from './errors.ts';

/** `outcome` label values of `journeylens_events_total`. */
export const EventOutcomes = {
  processed: 'processed',
  dlq: 'dlq',
  late: 'late',
  duplicate: 'duplicate',
  /** The consent field (ingestion.consent) did not grant analytics consent: never sessionized. */
  noConsent: 'no_consent',
} as const;
export type EventOutcome = (typeof EventOutcomes)[keyof typeof EventOutcomes];

export interface Metrics {
  readonly registry: Registry;
  /** Input events by source topic and what became of them. */
  readonly eventsTotal: Counter<'topic' | 'outcome'>;
  /** Events whose type is not in the model's vocabulary (the image's "other" column). Topic only: type names can be many. */
  readonly unknownTypeTotal: Counter<'topic'>;
  readonly sessionsActive: Gauge;
  readonly sessionsClosedTotal: Counter;
  /** Sessions closed early by the session cap (a subset of sessionsClosedTotal). */
  readonly sessionsEvictedTotal: Counter;
  /** The session cap (--max-sessions). */
  readonly sessionsMax: Gauge;
  /** Sessions per encoder batch (a count, so no unit suffix). */
  readonly encodeBatchSize: Histogram;
  readonly encodeDurationSeconds: Histogram;
  readonly assignDurationSeconds: Histogram;
  /** Event time of the newest event in a signal to the moment the signal is acked. */
  readonly eventToSignalSeconds: Histogram;
  readonly signalsTotal: Counter<'cluster'>;
  readonly alertsTotal: Counter<'band'>;
  readonly dlqTotal: Counter<'reason'>;
  /** CRM webhook attempts by HTTP status code, or `timeout` / `error` when no response came back. */
  readonly webhookRequestsTotal: Counter<'status'>;
  readonly webhookRequestDurationSeconds: Histogram;
  /** Alerts handed to the parking topic after the webhook gave up on them. */
  readonly webhookParkedTotal: Counter;
  /** Always 1; the labels carry the loaded bundle's version and the TF.js backend. */
  readonly modelInfo: Gauge<'version' | 'backend'>;
  /** Live TF.js tensors (tf.memory().numTensors): a steady rise is a leak. */
  readonly tensors: Gauge;
  /** Messages behind the partition's high watermark, labelled as kafka_exporter labels it. */
  readonly consumerGroupLag: Gauge<'consumergroup' | 'topic' | 'partition'>;
  /** Failed reads of the group's offsets or the watermarks by the lag poller. */
  readonly consumerLagPollErrorsTotal: Counter;
  /** Times this member (re)joined its group and got an assignment. */
  readonly rebalancesTotal: Counter;
  /** Offset commits (plain, or inside an exactly-once transaction). */
  readonly commitsTotal: Counter;
  /** Partitions this member has paused (backpressure, or the schema registry being down). */
  readonly partitionsPaused: Gauge;
  /** Alerts the CRM webhook holds: queued, in flight or waiting to retry. */
  readonly webhookQueueDepth: Gauge;
  /** Always 1 per cluster of the loaded bundle: joins a cluster id to its readable label. */
  readonly clusterInfo: Gauge<'cluster' | 'label'>;
  /** Schema-registry lookups by outcome: ok, unknown (no such id), unavailable, error. */
  readonly schemaRegistryRequestsTotal: Counter<'outcome'>;
  /** 1 while the schema registry answers, 0 while the consumer waits for it. */
  readonly schemaRegistryUp: Gauge;
}

// Batches are formed per micro-batch tick; powers of two up to a generous maximum batch.
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
// A CNN forward pass on the wasm/cpu backend: milliseconds for small batches, seconds for big ones.
const ENCODE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// An HNSW k-NN query over a few hundred centroids: tens of microseconds to a few milliseconds.
const ASSIGN_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1];
// End-to-end freshness: micro-batch tick plus encode plus produce (sub-second when healthy),
// up to minutes when the consumer is behind or replays after a rebalance.
const EVENT_TO_SIGNAL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
// A CRM answering on a LAN to one timing out at the 10 s default and past it.
const WEBHOOK_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Creates (or finds, when already registered) every journeylens metric on `registry`. */
export function createMetrics(registry: Registry): Metrics {
  ensureDefaultMetrics(registry);
  return {
    registry,
    eventsTotal: counter(registry, 'journeylens_events_total', 'Input events by source topic and outcome (processed, dlq, late, duplicate, tombstone, no_consent).', ['topic', 'outcome']),
    unknownTypeTotal: counter(registry, 'journeylens_events_unknown_type_total', 'Events whose type is not in the model’s event-type vocabulary (they share the image’s "other" column), by source topic.', ['topic']),
    sessionsActive: gauge(registry, 'journeylens_sessions_active', 'Sessions currently open in this process.', []),
    sessionsClosedTotal: counter(registry, 'journeylens_sessions_closed_total', 'Sessions closed (inactivity gap, maximum length, idle partition, eviction or shutdown).', []),
    sessionsEvictedTotal: counter(registry, 'journeylens_sessions_evicted_total', 'Sessions closed early because the session cap (--max-sessions) was reached: the least recently active ones.', []),
    sessionsMax: gauge(registry, 'journeylens_sessions_max', 'The session cap (--max-sessions): open sessions beyond it evict the least recently active.', []),
    encodeBatchSize: histogram(registry, 'journeylens_encode_batch_size', 'Sessions per encoder batch.', [], BATCH_SIZE_BUCKETS),
    encodeDurationSeconds: histogram(registry, 'journeylens_encode_duration_seconds', 'Time to encode one batch of journey images with the CNN.', [], ENCODE_BUCKETS),
    assignDurationSeconds: histogram(registry, 'journeylens_assign_duration_seconds', 'Time to assign one embedding to its nearest cluster centroids (HNSW).', [], ASSIGN_BUCKETS),
    eventToSignalSeconds: histogram(registry, 'journeylens_event_to_signal_seconds', 'Event time of the newest event in a signal to the signal being acked by Kafka.', [], EVENT_TO_SIGNAL_BUCKETS),
    signalsTotal: counter(registry, 'journeylens_signals_total', 'Journey signals emitted, by cluster id.', ['cluster']),
    alertsTotal: counter(registry, 'journeylens_alerts_total', 'Churn alerts emitted, by risk band.', ['band']),
    dlqTotal: counter(registry, 'journeylens_dlq_total', 'Records sent to the dead-letter topic, by error code.', ['reason']),
    webhookRequestsTotal: counter(registry, 'journeylens_webhook_requests_total', 'Webhook POST attempts by outcome: the HTTP status code, or "timeout" / "error" when no response came.', ['status']),
    webhookRequestDurationSeconds: histogram(registry, 'journeylens_webhook_request_duration_seconds', 'Time from sending a webhook POST to its response (or its failure).', [], WEBHOOK_BUCKETS),
    webhookParkedTotal: counter(registry, 'journeylens_webhook_parked_total', 'Alerts handed to the parking topic after the webhook gave up on them.', []),
    modelInfo: gauge(registry, 'journeylens_model_info', 'The loaded model bundle: always 1, labelled with bundle version and TF.js backend.', ['version', 'backend']),
    tensors: gauge(registry, 'journeylens_tensors', 'Live TF.js tensors; a steady rise means a leak.', []),
    consumerGroupLag: gauge(registry, 'kafka_consumergroup_lag', 'Messages between the committed offset of this consumer group and the high watermark.', ['consumergroup', 'topic', 'partition']),
    consumerLagPollErrorsTotal: counter(registry, 'journeylens_consumer_lag_poll_errors_total', 'Consumer-lag polls that failed (the previous lag values stay).', []),
    rebalancesTotal: counter(registry, 'journeylens_consumer_rebalances_total', 'Times this member joined its consumer group and received an assignment.', []),
    commitsTotal: counter(registry, 'journeylens_consumer_commits_total', 'Input offset commits, plain or inside an exactly-once transaction.', []),
    partitionsPaused: gauge(registry, 'journeylens_partitions_paused', 'Input partitions this member has paused (backpressure, or waiting for the schema registry).', []),
    webhookQueueDepth: gauge(registry, 'journeylens_webhook_queue_depth', 'Alerts the CRM webhook holds: queued, in flight or waiting to retry.', []),
    clusterInfo: gauge(registry, 'journeylens_cluster_info', 'The loaded bundle\'s clusters: always 1, labelled with the cluster id and its readable label.', ['cluster', 'label']),
    schemaRegistryRequestsTotal: counter(registry, 'journeylens_schema_registry_requests_total', 'Schema-registry lookups by outcome: ok, unknown (the id does not exist), unavailable (retried), error.', ['outcome']),
    schemaRegistryUp: gauge(registry, 'journeylens_schema_registry_up', '1 while the schema registry answers, 0 while partitions wait for it.', []),
  };
}

/** The cluster id of a signal that no cluster could take (and of every signal without a model). */
export const UNASSIGNED_CLUSTER = -1;

/** Marks the loaded bundle's clusters; a hot reload replaces the previous series. */
export function setClusterInfo(metrics: Metrics, clusters: readonly { id: number; label: string }[]): void {
  metrics.clusterInfo.reset();
  metrics.clusterInfo.set({ cluster: String(UNASSIGNED_CLUSTER), label: 'unassigned' }, 1);
  for (const c of clusters) metrics.clusterInfo.set({ cluster: String(c.id), label: c.label }, 1);
}

/** Marks `version`/`backend` as the loaded model; a hot reload replaces the previous series. */
export function setModelInfo(metrics: Metrics, info: { version: string; backend: string }): void {
  metrics.modelInfo.reset();
  metrics.modelInfo.set({ version: info.version, backend: info.backend }, 1);
}

// prom-client's default set includes gauges ending in `_total`, which `promtool check metrics`
// rejects; the same numbers are the sum over the by-type gauges kept beside them
// (nodejs_active_handles{type}, nodejs_active_requests{type}, nodejs_active_resources{type}).
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

// Process metrics (CPU, memory, event-loop lag, GC, handles) once per registry: prom-client
// throws when they are registered twice, so their presence is the marker.
function ensureDefaultMetrics(registry: Registry): void {
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
}

type Ctor<M> = abstract new (...args: never[]) => M;

function existing<M>(registry: Registry, name: string, kind: Ctor<M>, labelNames: readonly string[]): M | undefined {
  const found: Metric | undefined = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  const foundLabels = (found as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
  if (!(found instanceof kind) || foundLabels.join(',') !== labelNames.join(',')) {
    // Two components disagreeing on a metric's shape is a programming error, not a user one.
    throw new JourneylensError(
      ErrorCodes.INTERNAL,
      `metric ${name} is already registered with a different type or labels [${foundLabels.join(', ')}]; expected ${kind.name} with [${labelNames.join(', ')}].`,
    );
  }
  return found;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return existing<Counter<L>>(registry, name, Counter, labelNames) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return existing<Gauge<L>>(registry, name, Gauge, labelNames) ?? new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return existing<Histogram<L>>(registry, name, Histogram, labelNames) ?? new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}
