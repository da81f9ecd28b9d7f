// Builds the kafkajs client from config and turns its connection failures into UserErrors that
// name the brokers and the option to fix.
import { readFileSync } from 'node:fs';
import { type Admin, Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { ErrorCodes, UserError } from '../errors.ts';
import { type ProducerOptions } from '@platformatic/kafka';

export interface KafkaSecurityOptions {
  ssl?: boolean;
  sslCaFile?: string;
  sslCertFile?: string;
  sslKeyFile?: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPassword?: string;
}

/** The security options of a resolved config, without the unset ones (kafkajs treats a present key as set). */
export function kafkaSecurity(config: { ssl: boolean; sslCaFile?: string; sslCertFile?: string; sslKeyFile?: string; saslMechanism?: string; saslUsername?: string; saslPassword?: string }): KafkaSecurityOptions {
  return {
    ssl: config.ssl,
    ...(config.sslCaFile ? { sslCaFile: config.sslCaFile } : {}),
    ...(config.sslCertFile ? { sslCertFile: config.sslCertFile } : {}),
    ...(config.sslKeyFile ? { sslKeyFile: config.sslKeyFile } : {}),
    ...(config.saslMechanism ? { saslMechanism: config.saslMechanism } : {}),
    ...(config.saslUsername ? { saslUsername: config.saslUsername } : {}),
    ...(config.saslPassword !== undefined ? { saslPassword: config.saslPassword } : {}),
  };
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  connectTimeoutMs: number;
  security?: KafkaSecurityOptions;
  /** Receives kafkajs' own log lines (warn and above). */
  onLog?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
}

const levelName = (l: logLevel): 'error' | 'warn' | 'info' | 'debug' =>
  l === logLevel.ERROR || l === logLevel.NOTHING ? 'error' : l === logLevel.WARN ? 'warn' : l === logLevel.INFO ? 'info' : 'debug';

function readPem(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${option}: cannot read ${path}: ${(err as Error).message}`, { exitCode: 2 });
  }
}

/** kafkajs `ssl` and `sasl` settings from the config (certificates read from their files). */
export function securityConfig(s: KafkaSecurityOptions = {}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (s.ssl || s.sslCaFile || s.sslCertFile) {
    out.ssl = {
      rejectUnauthorized: true,
      ...(s.sslCaFile ? { ca: [readPem(s.sslCaFile, '--ssl-ca-file')] } : {}),
      ...(s.sslCertFile ? { cert: readPem(s.sslCertFile, '--ssl-cert-file') } : {}),
      ...(s.sslKeyFile ? { key: readPem(s.sslKeyFile, '--ssl-key-file') } : {}),
    };
  }
  if (s.saslMechanism) {
    const username = s.saslUsername ?? '';
    const password = s.saslPassword ?? '';
    out.sasl =
      s.saslMechanism === 'plain'
        ? { mechanism: 'plain', username, password }
        : s.saslMechanism === 'scram-sha-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return out;
}

/**
 * The same brokers, timeouts, TLS and SASL settings for @platformatic/kafka (the processor's
 * producer, sinks/platformatic-sink.ts): node's TLS options as kafkajs takes them, the SASL
 * mechanism in the protocol's spelling, requests retried with kafkajs's backoff (200 ms doubling
 * to 5 s, 8 retries) before the delivery retries of a tick take over.
 */
export type PlatformaticConnection = Pick<ProducerOptions<Buffer, Buffer, Buffer, Buffer>, 'clientId' | 'bootstrapBrokers' | 'connectTimeout' | 'timeout' | 'retries' | 'retryDelay' | 'tls' | 'sasl'>;

export function platformaticConnection(options: Omit<KafkaClientOptions, 'onLog'>): PlatformaticConnection {
  const { ssl, sasl } = securityConfig(options.security);
  return {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    connectTimeout: Math.min(options.connectTimeoutMs, 10_000),
    timeout: 30_000,
    retries: 8,
    retryDelay: (_client, _operation, attempt) => Math.min(5_000, 200 * 2 ** Math.max(0, attempt - 1)),
    ...(ssl ? { tls: ssl === true ? {} : ssl } : {}),
    ...(sasl ? { sasl: { mechanism: sasl.mechanism === 'plain' ? 'PLAIN' : sasl.mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', username: (sasl as { username: string }).username, password: (sasl as { password: string }).password } } : {}),
  };
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    ...securityConfig(options.security),
    connectionTimeout: Math.min(options.connectTimeoutMs, 10_000),
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        options.onLog?.(levelName(level), String(message), extra);
      },
  };
  return new Kafka(config);
}

/**
 * Fails fast with a clear message when no broker answers within timeoutMs, instead of kafkajs'
 * retry loop and stack trace. Uses its own quiet client so the probe's failures are not logged.
 */
export async function assertBrokersReachable(brokers: string[], timeoutMs: number, security: KafkaSecurityOptions = {}): Promise<void> {
  const probe = probeClient(brokers, Math.min(timeoutMs, 3_000), security);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = probe.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return;
    } catch (err) {
      lastError = err;
      await admin.disconnect().catch(() => undefined);
      if (isAuthError(err)) {
        throw new UserError(
          ErrorCodes.KAFKA_AUTH,
          `Kafka at ${brokers.join(',')} refused the credentials (${(err as Error).message}). Check --sasl-mechanism, --sasl-username and the password (env JOURNEYLENS_SASL_PASSWORD or JOURNEYLENS_SASL_PASSWORD_FILE).`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new UserError(
    ErrorCodes.BROKER_UNREACHABLE,
    `cannot reach Kafka at ${brokers.join(',')} within ${Math.round(timeoutMs / 1000)}s (${reason}). Check --brokers (env JOURNEYLENS_BROKERS) and that the brokers are up; for a local broker run \`journeylens kafka start\`.`,
  );
}

/** A client that never retries and never logs: its failures are the answer, not noise. */
function probeClient(brokers: string[], connectionTimeout: number, security: KafkaSecurityOptions): Kafka {
  return new Kafka({ clientId: 'journeylens-probe', brokers, ...securityConfig(security), connectionTimeout, requestTimeout: connectionTimeout, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
}

export interface BrokerWatch {
  /** As of the last probe (true until the first one fails). */
  reachable(): boolean;
  stop(): Promise<void>;
}

/**
 * Asks the cluster for its metadata every `intervalMs` over a connection of its own, each probe
 * bounded by `timeoutMs`, so /readyz follows a broker loss within about intervalMs + timeoutMs.
 * The consumer alone notices much later: kafkajs spends its connection retries first (~10 s).
 * A failed probe drops its connection, so the next one connects again from scratch.
 */
export function watchBrokers(brokers: string[], security: KafkaSecurityOptions = {}, options: { intervalMs?: number; timeoutMs?: number; onChange?: (reachable: boolean, err?: Error) => void } = {}): BrokerWatch {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 1500;
  const client = probeClient(brokers, timeoutMs, security);
  let admin: Admin | undefined;
  let ok = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const probe = async (): Promise<void> => {
    let deadline: NodeJS.Timeout | undefined;
    try {
      const a = (admin ??= client.admin({ retry: { retries: 0 } }));
      const timedOut = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([a.connect().then(() => a.describeCluster()), timedOut]);
      if (!ok) options.onChange?.(true);
      ok = true;
    } catch (err) {
      const dropped = admin;
      admin = undefined;
      void dropped?.disconnect().catch(() => undefined);
      if (ok) options.onChange?.(false, err as Error);
      ok = false;
    } finally {
      clearTimeout(deadline);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      await probe();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started)));
        timer.unref();
      });
    }
  })();
  return {
    reachable: () => ok,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

function isAuthError(err: unknown): boolean {
  const e = err as { name?: string; type?: string; message?: string };
  return e?.name === 'KafkaJSSASLAuthenticationError' || /SASL|authentication/i.test(e?.message ?? '') || e?.type === 'SASL_AUTHENTICATION_FAILED';
}

/**
 * Output topics must exist before the processor starts: producing to a missing topic (with
 * auto-creation off) would stall every tick while kafkajs retries. One message names them all,
 * and the flag that creates them (the Kafka we ship is jars only: no kafka-topics.sh).
 */
export async function assertTopicsExist(kafka: Kafka, topics: { topic: string; option: string }[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(kafka, async (admin) => {
    const missing = await missingTopics(admin, topics);
    if (missing.length > 0) {
      const many = missing.length > 1;
      throw new UserError(
        ErrorCodes.CONFIG_INVALID,
        `output topic${many ? 's' : ''} ${missing.map((m) => `"${m.topic}" (${m.option})`).join(', ')} ${many ? 'do' : 'does'} not exist on the cluster; ` +
          `pass --create-topics (env JOURNEYLENS_CREATE_TOPICS; with --topic-partitions and --topic-replication) to create ${many ? 'them' : 'it'} at start, or point the option at an existing topic.`,
        { exitCode: 2 },
      );
    }
  });
}

/** Runs `fn` with a connected admin client and always disconnects it. */
async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the topics that are missing and returns their names (`run --create-topics`, the demo).
 * Partitions and replication left out take the broker's defaults (-1 in CreateTopics).
 */
export async function ensureTopics(kafka: Kafka, topics: { topic: string; partitions?: number; replication?: number }[]): Promise<string[]> {
  return withAdmin(kafka, async (admin) => {
    const missing = await missingTopics(admin, topics);
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions ?? -1, replicationFactor: t.replication ?? -1 })),
        });
      } catch (err) {
        // kafkajs words a refusal per topic (e.g. a replication factor above the broker count)
        const detail = (err as { errors?: { message?: string }[] }).errors?.map((e) => e.message).join('; ') ?? (err as Error).message;
        throw new UserError(ErrorCodes.CONFIG_INVALID, `--create-topics: the cluster refused to create ${missing.map((t) => `"${t.topic}"`).join(', ')}: ${detail}. Check --topic-partitions and --topic-replication (at most the number of brokers).`, { exitCode: 2, cause: err });
      }
    }
    return missing.map((t) => t.topic);
  });
}

/** The entries of `topics` that do not exist on the cluster. */
async function missingTopics<T extends { topic: string }>(admin: Admin, topics: T[]): Promise<T[]> {
  const existing = new Set(await admin.listTopics());
  return topics.filter((t) => !existing.has(t.topic));
}
