// The options every command that reads recorded events shares (train, eval, render, import,
// inspect): where the history is (--events FILE, or --brokers … --topic T with --from/--until) and
// the user's ingestion config (--config FILE, its `ingestion` section, the one `run` reads).
import { type Command, Option } from 'commander';
import { type Kafka } from 'kafkajs';
import { addConfigOptions, configSection, connectionOptions, resolveConfig, runOptions } from '../config.ts';
import { compileIngestion, type Ingestion } from '../consumers/ingest.ts';
import { assertBrokersReachable, createKafka } from '../consumers/kafka-client.ts';
import { parseIngestionOptions } from '../consumers/options.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type HistorySource, parseTopicPosition } from '../history/history-source.ts';

export interface HistoryFlags {
  events?: string;
  topic?: string;
  from?: string;
  until?: string;
  config?: string;
  [flag: string]: unknown;
}

/** Adds --events, --topic, --from, --until, the Kafka connection options and --config. */
export function addHistoryOptions(cmd: Command, what = 'click events'): Command {
  cmd
    .option('--events <file>', `${what}: a JSON Lines file (one record per line) or an Avro container file, read through the ingestion config`)
    .option('--topic <topic>', `${what} from this Kafka topic (with --brokers), read through the ingestion config`)
    .option('--from <position>', 'where to start reading --topic: earliest (default), offset:N, a record timestamp in ms or an ISO-8601 date-time (Kafka record time, not event time)')
    .option('--until <position>', 'where to stop reading --topic (exclusive): latest (default: the end when the read starts), offset:N, ms or ISO-8601');
  // --config and the connection options of `run` (brokers, TLS, SASL), from flags, env or the config file
  addConfigOptions(cmd, connectionOptions.map((o) => (o.key === 'brokers' ? { ...o, required: false } : o)));
  return cmd;
}

/** The ingestion config of --config (env JOURNEYLENS_CONFIG): the same section `run` reads. */
export function ingestionFromFlags(flags: HistoryFlags): Ingestion {
  const section = configSection('ingestion', flags);
  return compileIngestion(parseIngestionOptions(section.value, 'ingestion'), { baseDir: section.baseDir, root: 'ingestion' });
}

export interface OpenedHistory {
  source: HistorySource;
  ingestion: Ingestion;
  /** "events.jsonl" or "topic clicks (earliest → latest)", for messages. */
  label: string;
}

/** Resolves where the history is; connects to Kafka (checking it is reachable) for --topic. */
export async function openHistory(flags: HistoryFlags): Promise<OpenedHistory> {
  const ingestion = ingestionFromFlags(flags);
  if (flags.events !== undefined) {
    if (flags.topic !== undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, 'give --events FILE or --topic TOPIC (with --brokers), not both.', { exitCode: 2 });
    return { source: { kind: 'file', path: flags.events }, ingestion, label: flags.events };
  }
  if (flags.topic === undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, 'where are the events? Give --events FILE (JSON Lines or Avro), or --topic TOPIC with --brokers HOST:PORT (and --from/--until).', { exitCode: 2 });
  }
  const from = parseTopicPosition(flags.from ?? 'earliest', '--from');
  const until = parseTopicPosition(flags.until ?? 'latest', '--until');
  const kafka = await connect(flags);
  return { source: { kind: 'topic', kafka, topic: flags.topic, from, until }, ingestion, label: `topic ${flags.topic} (${flags.from ?? 'earliest'} → ${flags.until ?? 'latest'})` };
}

/** A kafkajs client from the connection options (flags > env > config file), after a reachability check. */
export async function connect(flags: HistoryFlags): Promise<Kafka> {
  const config = resolveConfig(connectionOptions, flags, process.env, runOptions.map((o) => o.key));
  if (config.brokers === undefined || config.brokers.length === 0) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--topic needs --brokers HOST:PORT (env JOURNEYLENS_BROKERS, or "brokers" in the --config file).', { exitCode: 2 });
  }
  await assertBrokersReachable(config.brokers, config.connectTimeoutMs, config);
  return createKafka({ brokers: config.brokers, clientId: config.clientId, connectTimeoutMs: config.connectTimeoutMs, security: config });
}

/** --churn-after 14d: a duration in d, h, m, s or ms (a bare number is days). */
export function parseDuration(flag: string): (value: string) => number {
  return (value: string) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    const ms = m ? Number(m[1]) * unit[(m[2] ?? 'd') as keyof typeof unit] : Number.NaN;
    if (!Number.isFinite(ms) || ms <= 0) throw new UserError(ErrorCodes.CONFIG_INVALID, `${flag} must be a duration such as 14d, 36h or 90m, got "${value}".`, { exitCode: 2 });
    return Math.round(ms);
  };
}

/** commander Option for --churn-after. */
export function churnAfterOption(): Option {
  return new Option('--churn-after <duration>', 'derive churn labels from the history itself: a session churned when its user has no later session within this long (event time), e.g. 14d; sessions too close to the end of the history are left out and counted (docs/quickstart.md)').argParser(
    parseDuration('--churn-after'),
  );
}
