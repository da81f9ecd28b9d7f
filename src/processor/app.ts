// Wires a processor from a resolved config: Kafka client, source, sinks, sessionizer, model,
// alerts, webhook, metrics and the ops HTTP server. Used by `journeylens run` and the demo.
import { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { type RunConfig, checkRunConfig, configSection, inputTopics } from '../config.ts';
import { type ChurnAlert, type ClickEvent, type JourneySignal } from '../contracts/records.ts';
import { type SessionScorer, unscoredScorer } from '../contracts/scorer.ts';
import { compileIngestion } from '../consumers/ingest.ts';
import { assertBrokersReachable, assertTopicsExist, createKafka, ensureTopics, kafkaSecurity, platformaticConnection, watchBrokers } from '../consumers/kafka-client.ts';
import { parseIngestionOptions } from '../consumers/options.ts';
import { KafkajsSource } from '../consumers/source.ts';
import { SchemaGate } from '../consumers/registry.ts';
import { SchemaRegistryAuthError, SchemaRegistryClient, SchemaRegistryUnavailableError } from '../schema-registry/client.ts';
import { type OutputEncoders, type OutputFormat, createOutputEncoders } from '../sinks/output-format.ts';
import { startConsumerLagPoller } from './consumer-lag.ts';
import { startOpsServer, type OpsServer } from '../http.ts';
import { createLogger } from '../log.ts';
import { createMetrics, type Metrics, setClusterInfo } from '../metrics.ts';
import { ModelRuntime, resolveBundleDir } from '../model/runtime.ts';
import { defaultImageSpec, defaultSessionizationSpec, type SessionizationSpec } from '../journey/image-spec.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { Processor, type TickHook } from './processor.ts';
import { type EmitMode } from './emission.ts';
import { ModelFit } from './model-fit.ts';
import { alertsHook, type AlertsHook } from './alerts-hook.ts';
import { alertStateTopicFor, ensureAlertStateTopic } from './alert-state.ts';
import { parseRiskSetting, resolveRiskSetting, type RiskThresholds } from '../contracts/risk.ts';
import { KafkaSink, type OutputSink } from '../sinks/kafka-sink.ts';
import { PlatformaticSink } from '../sinks/platformatic-sink.ts';
import { parseDenyFields, pseudonymizer, readPseudonymKey } from '../sinks/privacy.ts';
import { SessionStore, defaultMaxSessions } from '../streams/session-store.ts';

export interface App {
  processor: Processor;
  model: ModelRuntime | undefined;
  log: Logger;
  metrics: Metrics;
  ops: OpsServer;
  /** Resolves when the processor stopped (after stop()), rejects if it failed for good. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface AppHooks {
  onSignal?: (signal: JourneySignal) => void;
  onAlert?: (alert: ChurnAlert) => void;
  /** Every event taken in, and hooks that see each scored tick (the web console beside the processor). */
  onEvent?: (event: ClickEvent) => void;
  tickHooks?: TickHook[];
  log?: Logger;
  /** Flags as given on the command line (for config-file sections). */
  flags?: Record<string, unknown>;
  scorer?: () => SessionScorer;
  /** The processor's producer in place of the one the config picks (the throughput bench runs the kafkajs one beside it). */
  sink?: () => OutputSink;
}

export async function startApp(rawConfig: RunConfig, hooks: AppHooks = {}): Promise<App> {
  const config = checkRunConfig(rawConfig);
  const log = hooks.log ?? createLogger({ level: config.logLevel, component: 'run' });
  const flags = hooks.flags ?? {};
  const section = configSection('ingestion', flags);
  const pseudonym = config.pseudonymizeKeyFile ? pseudonymizer(readPseudonymKey(config.pseudonymizeKeyFile)) : undefined;
  const dlqDenyFields = parseDenyFields(config.dlqDenyFields);
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const schemaRegistry = config.schemaRegistryUrl
    ? new SchemaRegistryClient({
        url: config.schemaRegistryUrl,
        ...(config.schemaRegistryUser !== undefined ? { username: config.schemaRegistryUser, password: config.schemaRegistryPassword ?? '' } : {}),
        ...(config.schemaRegistryCaFile !== undefined ? { caFile: config.schemaRegistryCaFile } : {}),
      })
    : undefined;
  const ingestion = compileIngestion(parseIngestionOptions(section.value, 'ingestion', { schemaRegistry: schemaRegistry !== undefined }), {
    baseDir: section.baseDir,
    root: 'ingestion',
    ...(schemaRegistry ? { schemaRegistry: { client: schemaRegistry, metrics } } : {}),
  });
  const ops = await startOpsServer({ registry, host: config.metricsHost, port: config.metricsPort });
  let joined = false;
  ops.setReadinessCheck('consumerJoined', () => joined);

  const security = kafkaSecurity(config);
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    security,
    onLog: (level, message, extra) => {
      if (level === 'error') log.warn({ kafkajs: extra }, message);
      else log.debug({ kafkajs: extra }, message);
    },
  });
  // The bundle is verified before Kafka is contacted: a tampered or unreadable bundle is what
  // the user hears about, even when the brokers are down too (it needs no broker to fix).
  const risk = parseRiskSetting(config.risk, '--risk (env JOURNEYLENS_RISK)');
  let model: ModelRuntime | undefined;
  const bundleDir = resolveBundleDir(config.bundle);
  if (!hooks.scorer && bundleDir) {
    try {
      model = await ModelRuntime.start({ dir: bundleDir, log, metrics, registry, maxBatch: config.maxBatch, risk, workers: config.scoringWorkers, ...(config.neighbourEf !== undefined ? { neighbourEf: config.neighbourEf } : {}) });
    } catch (err) {
      await ops.stop();
      throw err;
    }
  } else if (!hooks.scorer) {
    log.warn('no model bundle (models/default is missing and --bundle is not set): signals carry no cluster or churn risk');
    setClusterInfo(metrics, []);
  }
  try {
    await assertBrokersReachable(config.brokers, config.connectTimeoutMs, security);
  } catch (err) {
    await model?.close();
    await ops.stop();
    throw err;
  }
  let session: SessionizationSpec;
  let encoders: OutputEncoders;
  // The alert policy's bands are the serving bundle's (the one risk setting, resolved for it);
  // without a bundle only probabilities can be resolved.
  let thresholds: () => RiskThresholds;
  try {
    if (model) thresholds = () => (model as ModelRuntime).bundle.thresholds;
    else {
      const fixed = resolveRiskSetting(risk, undefined, '--risk (env JOURNEYLENS_RISK)');
      thresholds = () => fixed;
    }
    session = sessionSpec(model ? model.bundle.sessionization : defaultSessionizationSpec, config.quietEveryMs);
    const outputs = [
      { topic: config.signalsTopic, option: '--signals-topic' },
      ...(config.alertsTopic ? [{ topic: config.alertsTopic, option: '--alerts-topic' }] : []),
      ...(config.dlqTopic ? [{ topic: config.dlqTopic, option: '--dlq-topic' }] : []),
      ...(config.lateTopic ? [{ topic: config.lateTopic, option: '--late-topic' }] : []),
      // the webhook parks undeliverable alerts on <alerts-topic>.parked unless told otherwise
      ...(config.parkedTopic ? [{ topic: config.parkedTopic, option: '--parked-topic' }] : config.createTopics && config.webhookUrl && config.alertsTopic ? [{ topic: `${config.alertsTopic}.parked`, option: '--parked-topic' }] : []),
    ];
    if (config.createTopics) {
      const created = await ensureTopics(kafka, outputs.map((o) => ({ topic: o.topic, ...(config.topicPartitions ? { partitions: config.topicPartitions } : {}), ...(config.topicReplication ? { replication: config.topicReplication } : {}) })));
      if (created.length > 0) log.info({ topics: created, partitions: config.topicPartitions ?? 'broker default', replication: config.topicReplication ?? 'broker default' }, 'created the missing output topics (--create-topics)');
    } else {
      await assertTopicsExist(kafka, outputs);
    }
    if (schemaRegistry) await probeSchemaRegistry(schemaRegistry, log);
    encoders = await createOutputEncoders({
      format: config.outputFormat as OutputFormat,
      signalsTopic: config.signalsTopic,
      ...(config.alertsTopic ? { alertsTopic: config.alertsTopic } : {}),
      ...(schemaRegistry ? { registry: schemaRegistry } : {}),
      registryTimeoutMs: config.connectTimeoutMs,
      log,
    });
  } catch (err) {
    await model?.close();
    await ops.stop();
    throw err;
  }
  ops.setReadinessCheck('modelLoaded', () => model !== undefined || hooks.scorer !== undefined || !bundleDir);
  const maxSessions = config.maxSessions ?? defaultMaxSessions();
  const store = new SessionStore(model ? model.bundle.imageSpec : defaultImageSpec, session, { maxSessions });
  metrics.sessionsMax.set(maxSessions);
  log.info({ gapMs: session.gapMs, allowedLatenessMs: session.allowedLatenessMs, idleTimeoutMs: config.idleTimeoutMs, maxSessions }, 'sessionization');
  const scorer = hooks.scorer ?? (model ? () => (model as ModelRuntime).scorer() : () => unscoredScorer);
  // One producer library where it can: @platformatic/kafka's producer passes records on about
  // twice as fast as kafkajs's; --exactly-once stays on kafkajs, whose transactions take the
  // offsets of our kafkajs consumer group with their commit metadata (docs/architecture.md).
  const connection = platformaticConnection({ brokers: config.brokers, clientId: config.clientId, connectTimeoutMs: config.connectTimeoutMs, security });
  const plainSink = (): OutputSink => new PlatformaticSink(connection);
  const sink: OutputSink = hooks.sink ? hooks.sink() : config.exactlyOnce ? new KafkaSink(kafka, { transactionalId: config.transactionalId ?? `${config.group}-${config.clientId}` }) : plainSink();
  const alertHooks: AlertsHook[] = [];
  try {
    if (config.alertsTopic) {
      const stateTopic = alertStateTopicFor(config.alertsTopic);
      const retentionMs = config.alertStateRetentionHours * 3_600_000;
      if (await ensureAlertStateTopic(kafka, stateTopic, { retentionMs, ...(config.topicPartitions ? { partitions: config.topicPartitions } : {}), ...(config.topicReplication ? { replication: config.topicReplication } : {}) })) log.info({ topic: stateTopic, retentionMs }, 'created the compacted alert-state topic');
      alertHooks.push(alertsHook({ config, kafka, sink, plainSink, stateTopic, metrics, registry, log, thresholds, encode: encoders.alert, ...(hooks.onAlert ? { onAlert: hooks.onAlert } : {}) }));
    }
  } catch (err) {
    // e.g. bands the alert policy refuses: stop what started, or the process never exits
    await model?.close();
    await ops.stop();
    throw err;
  }

  const brokers = watchBrokers(config.brokers, security, {
    onChange: (reachable, err) => {
      if (reachable) log.info({ brokers: config.brokers }, 'the brokers answer again');
      else log.warn({ brokers: config.brokers, err: err?.message }, 'lost the brokers: /readyz is false until they answer');
    },
  });
  ops.setReadinessCheck('brokerReachable', () => brokers.reachable());

  let assignment: { topic: string; partitions: number[] }[] = [];
  let processor: Processor | undefined = undefined;
  let gate: SchemaGate | undefined = undefined;
  const source = new KafkajsSource(kafka, {
    group: config.group,
    topics: inputTopics(config.input),
    fromBeginning: config.fromBeginning,
    sessionTimeoutMs: config.sessionTimeoutMs,
    onJoin: (next) => {
      joined = true;
      metrics.rebalancesTotal.inc();
      // kafkajs restarts every assigned partition from its committed offset after a rebalance,
      // so all session state is rebuilt from there (replay marks keep it from publishing twice)
      const lost = assignment.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
      if (lost.length > 0) {
        processor?.revoke(lost);
        gate?.revoke(lost);
      }
      for (const h of alertHooks) h.reload();
      processor?.assign(next);
      assignment = next;
      log.info({ group: config.group, assignment: next }, 'consumer joined the group');
    },
    onPausedChange: (paused) => metrics.partitionsPaused.set(paused),
    onCrash: (error, restart) => {
      joined = false;
      log.error({ err: error, restart }, restart ? 'consumer crashed; restarting' : 'consumer crashed too often; giving up');
    },
  });
  // Batches that need a writer schema the registry cannot give now wait, paused (consumers/registry.ts).
  if (schemaRegistry) gate = new SchemaGate(ingestion, source, { log, metrics });
  const schemaGate = gate;
  processor = new Processor(source, sink, {
    ingestion,
    store,
    scorer,
    signalsTopic: config.signalsTopic,
    ...(config.dlqTopic ? { dlqTopic: config.dlqTopic } : {}),
    ...(config.lateTopic ? { lateTopic: config.lateTopic } : {}),
    outputFormat: config.outputFormat === 'json' ? 'json' : 'avro',
    encodeSignal: encoders.signal,
    ...(schemaGate ? { beforeBatch: (records) => schemaGate.admit(records) } : {}),
    group: config.group,
    exactlyOnce: config.exactlyOnce,
    tickMs: config.tickMs,
    maxBatch: config.maxBatch,
    emit: config.emit as EmitMode,
    emitRiskStep: config.emitRiskStep,
    ...(config.idleTimeoutMs > 0 ? { idleTimeoutMs: config.idleTimeoutMs } : {}),
    maxInFlight: config.maxInFlight,
    log,
    metrics,
    hooks: [...alertHooks, ...(hooks.tickHooks ?? [])],
    fit: new ModelFit({ eventTypes: store.image.eventTypes, log, metrics }),
    ...(pseudonym ? { pseudonym } : {}),
    ...(dlqDenyFields.length > 0 ? { dlqDenyFields } : {}),
    ...(hooks.onSignal ? { onSignal: hooks.onSignal } : {}),
    ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
  });
  try {
    await processor.run();
  } catch (err) {
    await brokers.stop();
    throw err;
  }
  const lagAdmin = kafka.admin();
  const lag = startConsumerLagPoller(metrics, lagAdmin, () => ({ groupId: config.group, topics: assignment.map((a) => a.topic), assignment: Object.fromEntries(assignment.map((a) => [a.topic, a.partitions])) }), {
    connect: () => lagAdmin.connect(),
    onError: (err) => log.warn({ err }, 'consumer lag poll failed; kafka_consumergroup_lag keeps its previous values'),
  });
  log.info({ brokers: config.brokers, input: config.input, signalsTopic: config.signalsTopic, metrics: ops.url }, 'journeylens is running');

  let stopping: Promise<void> | undefined;
  const proc = processor;
  return {
    processor: proc,
    model,
    log,
    metrics,
    ops,
    done: proc.done,
    stop() {
      stopping ??= (async () => {
        lag.stop();
        schemaGate?.stop();
        await proc.stop();
        await brokers.stop();
        await lagAdmin.disconnect().catch(() => undefined);
        for (const h of alertHooks) await h.close?.();
        await model?.close();
        await ops.stop();
        log.info(proc.stats, 'journeylens stopped');
      })();
      return stopping;
    },
  };
}

/** The bundle's sessionization, with --quiet-every-ms applied when given. */
export function sessionSpec(base: SessionizationSpec, quietEveryMs: number | undefined): SessionizationSpec {
  if (quietEveryMs === undefined) return base;
  if (quietEveryMs > 0 && quietEveryMs >= base.gapMs) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `--quiet-every-ms (env JOURNEYLENS_QUIET_EVERY_MS) is ${quietEveryMs} but must be less than the model's session gap (${base.gapMs} ms): the gap closes a quiet session first; lower it, or use 0 to turn quiet re-scores off.`,
      { exitCode: 2 },
    );
  }
  const { quietEveryMs: _bundle, ...rest } = base;
  return quietEveryMs > 0 ? { ...rest, quietEveryMs } : rest;
}

/**
 * One request at start: wrong credentials or an untrusted certificate stop the start (exit 2),
 * naming the option; a registry that does not answer only warns, since batches that need it wait,
 * paused, until it does.
 */
async function probeSchemaRegistry(client: SchemaRegistryClient, log: Logger): Promise<void> {
  try {
    await client.probe();
  } catch (err) {
    if (err instanceof SchemaRegistryAuthError) throw new UserError(ErrorCodes.SCHEMA_REGISTRY, err.message, { exitCode: 2, cause: err });
    if (!(err instanceof SchemaRegistryUnavailableError)) throw err;
    log.warn({ err: err.message, registry: client.target }, 'the schema registry does not answer at start; records that need a writer schema from it wait, paused, until it does');
  }
}
