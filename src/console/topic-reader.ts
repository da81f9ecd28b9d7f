// Feeds the console state from the output topics (`journeylens ui`), apart from any processor.
//
// Every console must see every partition, so it cannot share a consumer group with another
// console (Kafka would split the partitions between them): each process joins a group of its
// own, `<prefix>-<host>-<random>`, and commits nothing. On start it seeks each partition to the
// first record of the last `window` (by record timestamp, which the processor's producer sets
// when it publishes) and replays up to the end offsets it found, then follows live. A restart
// does the same: the console's state is rebuilt from the topics, not kept anywhere.
//
// Records are decoded as the processor writes them: JSON (`--output-format json`, a record
// starting with "{") or Avro (schemas/*.avsc). A record that is neither is counted and logged,
// never fatal.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Type } from 'avsc';
import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { type ChurnAlert, type JourneySignal } from '../contracts/records.ts';
import { churnAlertType, journeySignalType } from '../contracts/schemas.ts';
import { type ConsoleState } from './state.ts';

export interface TopicReaderOptions {
  kafka: Kafka;
  signalsTopic: string;
  /** Without it the feed stays empty. */
  alertsTopic?: string | undefined;
  groupPrefix: string;
  /** How far back to read on start (ms); 0: only what comes after the start. */
  windowMs: number;
  state: ConsoleState;
  log: Logger;
  now?: () => number;
}

export interface TopicReader {
  readonly groupId: string;
  /** Resolves once the window has been replayed (the console then shows live traffic). */
  readonly caughtUp: Promise<void>;
  readonly stats: { signals: number; alerts: number; undecodable: number; tombstones: number };
  stop(): Promise<void>;
}

const LOG_EVERY = 1000;
const REPLAY_IDLE_MS = 5_000;

/** A record value → the contract object, or a sentence saying why not. */
export function decodeOutput<T>(value: Buffer, type: Type): { ok: true; value: T } | { ok: false; why: string } {
  try {
    if (value[0] === 0x7b) {
      const parsed: unknown = JSON.parse(value.toString('utf8'));
      return type.isValid(parsed) ? { ok: true, value: parsed as T } : { ok: false, why: `JSON that is not a ${type.name ?? 'contract'} record` };
    }
    return { ok: true, value: type.fromBuffer(value) as T };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}

export async function startTopicReader(options: TopicReaderOptions): Promise<TopicReader> {
  const { kafka, state, log } = options;
  const now = options.now ?? Date.now;
  const topics = [options.signalsTopic, ...(options.alertsTopic ? [options.alertsTopic] : [])];
  const stats = { signals: 0, alerts: 0, undecodable: 0, tombstones: 0 };

  // where to start and where the replay ends, per topic-partition
  const admin = kafka.admin();
  const starts = new Map<string, string>();
  const ends = new Map<string, bigint>();
  await admin.connect();
  try {
    const since = now() - options.windowMs;
    for (const topic of topics) {
      const high = await admin.fetchTopicOffsets(topic);
      for (const p of high) ends.set(`${topic}\u0000${p.partition}`, BigInt(p.high));
      const from = options.windowMs > 0 ? await admin.fetchTopicOffsetsByTimestamp(topic, since) : high.map((p) => ({ partition: p.partition, offset: p.high }));
      for (const p of from) starts.set(`${topic}\u0000${p.partition}`, p.offset);
    }
  } finally {
    await admin.disconnect();
  }
  // partitions with nothing to replay are caught up already
  const behind = new Set([...ends].filter(([k, end]) => BigInt(starts.get(k) ?? end.toString()) < end).map(([k]) => k));
  let markCaughtUp = (): void => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = () => {
      if (!state.replaying) return;
      state.replaying = false;
      log.info({ signals: stats.signals, alerts: stats.alerts, windowMinutes: Math.round(options.windowMs / 60_000) }, 'console: replayed the window of the output topics; following live');
      resolve();
    };
  });
  state.replaying = true;
  if (behind.size === 0) markCaughtUp();

  const signalType = journeySignalType();
  const alertType = churnAlertType();
  const groupId = `${options.groupPrefix}-${hostname()}-${randomBytes(4).toString('hex')}`.slice(0, 200);
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  consumer.on(consumer.events.CRASH, (e) => log.error({ err: e.payload.error, restart: e.payload.restart }, 'console: topic consumer crashed'));

  const bad = (topic: string, partition: number, offset: string, why: string): void => {
    stats.undecodable++;
    if (stats.undecodable === 1 || stats.undecodable % LOG_EVERY === 0) {
      log.warn({ topic, partition, offset, why, undecodable: stats.undecodable }, 'console: skipped a record that is not a JourneySignal/ChurnAlert (counted; logged once per 1000)');
    }
  };

  // A partition whose last records before the end are only a transaction marker never gets a
  // batch that reaches the end; once nothing has come for a while, the replay is over.
  let lastBatchAt = Date.now();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    lastBatchAt = Date.now();
  });
  const idle = setInterval(() => {
    if (joined && Date.now() - lastBatchAt > REPLAY_IDLE_MS) markCaughtUp();
  }, 1000);
  idle.unref();
  void caughtUp.then(() => clearInterval(idle));

  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      const { topic, partition } = batch;
      for (const m of batch.messages) {
        if (m.value === null) {
          stats.tombstones++;
          continue;
        }
        if (topic === options.signalsTopic) {
          const d = decodeOutput<JourneySignal>(m.value, signalType);
          if (!d.ok) bad(topic, partition, m.offset, d.why);
          else {
            stats.signals++;
            state.addSignal(d.value);
          }
        } else {
          const d = decodeOutput<ChurnAlert>(m.value, alertType);
          if (!d.ok) bad(topic, partition, m.offset, d.why);
          else {
            stats.alerts++;
            state.addAlert(d.value);
          }
        }
      }
      lastBatchAt = Date.now();
      const key = `${topic}\u0000${partition}`;
      // lastOffset() counts transaction markers too (--exactly-once), which are never delivered
      if (behind.has(key) && BigInt(batch.lastOffset()) + 1n >= (ends.get(key) ?? 0n)) {
        behind.delete(key);
        if (behind.size === 0) markCaughtUp();
      }
      await heartbeat();
    },
  });
  // kafkajs applies a seek when the partition is assigned; this group is alone, so it gets all
  for (const [key, offset] of starts) {
    const [topic, partition] = key.split('\u0000') as [string, string];
    consumer.seek({ topic, partition: Number(partition), offset });
  }
  log.info({ groupId, topics, windowMinutes: Math.round(options.windowMs / 60_000) }, 'console: reading the output topics');

  let stopping: Promise<void> | undefined;
  return {
    groupId,
    caughtUp,
    stats,
    stop() {
      clearInterval(idle);
      stopping ??= consumer.disconnect();
      return stopping;
    },
  };
}
