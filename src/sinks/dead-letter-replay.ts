// `journeylens dlq replay`: re-injects dead letters into a topic after the cause was fixed, with
// their original key, value bytes and headers (minus the dead-letter headers), and a header naming
// the dead letter they came from.
//
// Idempotent: progress is committed in a consumer group per (from, to, reason filter), atomically
// with the records it produced (a Kafka transaction), so a second run, or a run after a crash,
// starts where the last one stopped and never re-injects a record. A run with --reason R also skips
// what an unfiltered run already replayed, and an unfiltered run skips what a --reason run did:
// before starting, the committed offsets of every sibling group are read, and a dead letter below
// the offset of the unfiltered group, or of the group of its own reason, counts as done.
//
// The range replayed is fixed when the run starts (the high watermarks then): dead letters that
// arrive meanwhile, e.g. replayed records failing again, wait for the next run.
import { type IHeaders, type Kafka, type KafkaMessage, type Message } from 'kafkajs';
import { type Logger } from 'pino';
import { DLQ_REASONS, type DlqReason } from '../contracts/dead-letters.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { DLQ_HEADERS, isDeadLetterHeader } from './dead-letter.ts';

/** Header of a replayed record: `<dlq topic>/<partition>/<offset>` of the dead letter it came from. */
export const REPLAYED_FROM_HEADER = 'x-journeylens-replayed-from';

export const DEFAULT_REPLAY_GROUP_PREFIX = 'journeylens-dlq-replay';

/** What a filter of `reason` is called in group ids: the reason, or `all`. */
const ALL = 'all';

export interface ReplayOptions {
  /** The dead-letter topic. */
  from: string;
  /** Where the records go, usually the input topic they were read from. */
  to: string;
  /** Only dead letters with this x-journeylens-error-code. */
  reason?: DlqReason;
  /** Consumer groups (and transactional ids) are `<prefix>.<from>.<to>.<reason or all>`. */
  groupPrefix?: string;
  /** Give up when no batch arrived for this long while dead letters are still due (default 60 s). */
  stallTimeoutMs?: number;
  log?: Logger;
}

export interface ReplayReport {
  from: string;
  to: string;
  reason: DlqReason | 'all';
  group: string;
  /** Dead letters read in this run (below the high watermarks at its start). */
  read: number;
  replayed: number;
  /** Dead letters of another reason than --reason: left for a later run. */
  skippedOtherReason: number;
  /** Dead letters an earlier run (filtered or not) already replayed. */
  skippedAlreadyReplayed: number;
  replayedByReason: Partial<Record<string, number>>;
}

export function replayGroupId(prefix: string, from: string, to: string, reason: DlqReason | typeof ALL): string {
  return `${prefix}.${from}.${to}.${reason}`;
}

const header = (h: IHeaders | undefined, name: string): string | undefined => {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/** The record to produce for a dead letter: original key, value and headers, and where it came from. */
export function replayMessage(dlq: { topic: string; partition: number; message: KafkaMessage }, targetTopic: string, targetPartitions: number): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(dlq.message.headers ?? {})) {
    if (value !== undefined && !isDeadLetterHeader(name) && name.toLowerCase() !== REPLAYED_FROM_HEADER) headers[name] = value;
  }
  headers[REPLAYED_FROM_HEADER] = `${dlq.topic}/${dlq.partition}/${dlq.message.offset}`;
  // Back into the partition it was read from, when that is where it goes: a session's events
  // share a partition, and the original producer's partitioner is not necessarily ours.
  const sourceTopic = header(dlq.message.headers, DLQ_HEADERS.sourceTopic);
  const sourcePartition = Number(header(dlq.message.headers, DLQ_HEADERS.sourcePartition));
  const samePartition = sourceTopic === targetTopic && Number.isInteger(sourcePartition) && sourcePartition >= 0 && sourcePartition < targetPartitions;
  return { key: dlq.message.key, value: dlq.message.value, headers, ...(samePartition ? { partition: sourcePartition } : {}) };
}

export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayReport> {
  const prefix = options.groupPrefix ?? DEFAULT_REPLAY_GROUP_PREFIX;
  const filter = options.reason ?? ALL;
  const group = replayGroupId(prefix, options.from, options.to, filter);
  const report: ReplayReport = { from: options.from, to: options.to, reason: filter, group, read: 0, replayed: 0, skippedOtherReason: 0, skippedAlreadyReplayed: 0, replayedByReason: {} };

  const admin = kafka.admin();
  await admin.connect();
  let end: Map<number, bigint>;
  let start: Map<number, bigint>;
  /** Per sibling filter (`all` or a reason): partition → the offset its group committed. */
  const done = new Map<string, Map<number, bigint>>();
  let targetPartitions: number;
  try {
    const watermarks = await admin.fetchTopicOffsets(options.from);
    end = new Map(watermarks.map((w) => [w.partition, BigInt(w.high)]));
    const low = new Map(watermarks.map((w) => [w.partition, BigInt(w.low)]));
    targetPartitions = (await admin.fetchTopicMetadata({ topics: [options.to] })).topics[0]?.partitions.length ?? 0;
    for (const f of [ALL, ...DLQ_REASONS] as const) {
      const [offsets] = await admin.fetchOffsets({ groupId: replayGroupId(prefix, options.from, options.to, f), topics: [options.from] });
      done.set(f, new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)])));
    }
    // -1: the group never committed; it starts at the low watermark (what fromBeginning reads).
    start = new Map([...end.keys()].map((p) => {
      const committed = done.get(filter)?.get(p) ?? -1n;
      return [p, committed >= 0n ? committed : (low.get(p) ?? 0n)];
    }));
  } finally {
    await admin.disconnect();
  }
  const due = [...end].filter(([p, high]) => (start.get(p) ?? 0n) < high);
  options.log?.info({ group, due: due.map(([p, high]) => ({ partition: p, from: String(start.get(p)), to: String(high) })) }, 'dlq replay: range fixed');
  if (due.length === 0) return report;

  const alreadyReplayed = (partition: number, offset: bigint, reason: string | undefined): boolean => {
    const byAll = done.get(ALL)?.get(partition) ?? -1n;
    const byReason = reason === undefined ? -1n : (done.get(reason)?.get(partition) ?? -1n);
    return offset < byAll || offset < byReason;
  };

  // The group id doubles as transactional id: a run that died mid-transaction is fenced and its
  // transaction aborted when the next run starts, before anything is produced again.
  const producer = kafka.producer({ transactionalId: group, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  /** Partition → next offset to look at; the run ends when every due partition reached its end. */
  const position = new Map(due.map(([p]) => [p, start.get(p) ?? 0n]));
  let finish: (err?: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  const advance = (partition: number, next: bigint): void => {
    if (!position.has(partition) || next <= (position.get(partition) ?? 0n)) return;
    position.set(partition, next);
    lastProgress = Date.now();
    if ([...position].every(([p, at]) => at >= (end.get(p) ?? 0n))) finish();
  };
  let lastProgress = Date.now();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  const stall = setInterval(() => {
    if (Date.now() - lastProgress > stallMs) {
      const behind = [...position].filter(([p, at]) => at < (end.get(p) ?? 0n)).map(([p, at]) => `${options.from}/${p} at ${at} of ${end.get(p)}`);
      finish(new JourneylensError(ErrorCodes.BROKER_UNREACHABLE, `dlq replay made no progress for ${Math.round(stallMs / 1000)} s (${behind.join(', ')}); nothing after the last commit was replayed. Run it again; it continues from there.`));
    }
  }, 1000);
  stall.unref();

  try {
    await producer.connect();
    await consumer.connect();
    // Every batch that reaches the consumer, also those filtered to nothing (transaction markers,
    // aborted records), moves the position: the last records of a transactional DLQ are markers.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => advance(e.payload.partition, BigInt(e.payload.lastOffset) + 1n));
    consumer.on(consumer.events.CRASH, (e) => finish(e.payload.error));
    await consumer.subscribe({ topic: options.from, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const high = end.get(batch.partition) ?? 0n;
        const out: Message[] = [];
        const counts: Partial<Record<string, number>> = {};
        let read = 0;
        let otherReason = 0;
        let replayedBefore = 0;
        let last: bigint | undefined;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset >= high) break;
          last = offset;
          read++;
          const reason = header(m.headers, DLQ_HEADERS.errorCode);
          if (options.reason !== undefined && reason !== options.reason) otherReason++;
          else if (alreadyReplayed(batch.partition, offset, reason)) replayedBefore++;
          else {
            out.push(replayMessage({ topic: options.from, partition: batch.partition, message: m }, options.to, targetPartitions));
            counts[reason ?? 'unknown'] = (counts[reason ?? 'unknown'] ?? 0) + 1;
          }
        }
        if (last === undefined) return;
        const txn = await producer.transaction();
        try {
          if (out.length > 0) await txn.send({ topic: options.to, messages: out, acks: -1 });
          await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: options.from, partitions: [{ partition: batch.partition, offset: String(last + 1n) }] }] });
          await txn.commit();
        } catch (err) {
          if (txn.isActive()) await txn.abort().catch(() => undefined);
          throw err;
        }
        // Counted once committed: what the report says was replayed, was.
        report.read += read;
        report.skippedOtherReason += otherReason;
        report.skippedAlreadyReplayed += replayedBefore;
        report.replayed += out.length;
        for (const [r, n] of Object.entries(counts)) report.replayedByReason[r] = (report.replayedByReason[r] ?? 0) + (n ?? 0);
        resolveOffset(last.toString());
        await heartbeat();
      },
    });
    await finished;
  } finally {
    clearInterval(stall);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
  return report;
}
