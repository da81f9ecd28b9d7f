// Builds the kafkajs client from config and turns its connection failures into UserErrors that
// name the brokers and the option to fix.
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { ErrorCodes, UserError } from '../errors.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  connectTimeoutMs: number;
  /** Receives kafkajs' own log lines (warn and above). */
  onLog?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
}

const levelName = (l: logLevel): 'error' | 'warn' | 'info' | 'debug' =>
  l === logLevel.ERROR || l === logLevel.NOTHING ? 'error' : l === logLevel.WARN ? 'warn' : l === logLevel.INFO ? 'info' : 'debug';

export function createKafka(options: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
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
export async function assertBrokersReachable(brokers: string[], timeoutMs: number): Promise<void> {
  const probe = new Kafka({
    clientId: 'journeylens-probe',
    brokers,
    connectionTimeout: Math.min(timeoutMs, 3_000),
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
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
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new UserError(
    ErrorCodes.BROKER_UNREACHABLE,
    `cannot reach Kafka at ${brokers.join(',')} within ${Math.round(timeoutMs / 1000)}s (${reason}). Check --brokers (env JOURNEYLENS_BROKERS) and that the brokers are up; for a local broker run \`journeylens kafka start\`.`,
  );
}

/** Creates missing topics (the demo and tests; production clusters usually manage topics). */
export async function ensureTopics(kafka: Kafka, topics: { topic: string; partitions?: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions ?? 3, replicationFactor: 1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
