// Recorded events (history) for train, eval, render, import and inspect: a JSON Lines file, an
// Avro container file, or a Kafka topic between two positions. Every record goes through the same
// `ingest` call as live traffic (decode → consent → field mapping → validation), with the user's
// ingestion config: a model is trained on exactly the events `run` will see. Records that are
// not events are counted by outcome, with the first message per dead-letter reason and where it
// was (file:line, or topic/partition@offset), never thrown away in silence.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import avsc from 'avsc';
import { type Type } from 'avsc';
import { type Admin, type Kafka } from 'kafkajs';
import { type IngestRecord } from '../contracts/ingest-record.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { type DlqReason } from '../contracts/dead-letters.ts';
import { avroDecoder, createAvroReader, parseIngestSchema } from '../consumers/decode.ts';
import { type Ingestion, compileIngestion, ingest, ingestDecoded, toIngestRecord } from '../consumers/ingest.ts';
import { parseIngestionOptions } from '../consumers/options.ts';
import { type IngestResult } from '../consumers/types.ts';
import { ErrorCodes, UserError } from '../errors.ts';

/** A position in a topic: earliest/latest, an offset on every partition, or a record timestamp. */
export type TopicPosition = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; ms: number };

export type HistorySource =
  | { kind: 'file'; path: string }
  | {
      kind: 'topic';
      kafka: Kafka;
      topic: string;
      /** Default earliest. */
      from?: TopicPosition;
      /** Exclusive; default: the end of each partition when the read starts. */
      until?: TopicPosition;
      /** At most this many records of each partition (from `from`). */
      maxPerPartition?: number;
    };

/** One event of the history, with where it sits (partition, offset) for the sessionizer. */
export interface HistoryEvent {
  event: ClickEvent;
  partition: number;
  offset: bigint;
  /** The record's value bytes (for the data hash). */
  value: Buffer;
}

export interface HistoryCounts {
  records: number;
  events: number;
  tombstones: number;
  noConsent: number;
  dead: number;
  /** Per dead-letter reason: how many, and the first one (where and why). */
  deadByReason: Map<DlqReason, { count: number; first: string }>;
}

export const emptyCounts = (): HistoryCounts => ({ records: 0, events: 0, tombstones: 0, noConsent: 0, dead: 0, deadByReason: new Map() });

/** "the file clicks.jsonl" / "topic clicks", for messages. */
export function describeSource(source: HistorySource): string {
  return source.kind === 'file' ? source.path : `topic ${source.topic}`;
}

/** One line per reason: "12 missing_field (first: clicks.jsonl:3: sessionId is missing; …)". */
export function describeDead(counts: HistoryCounts): string[] {
  return [...counts.deadByReason].sort((a, b) => b[1].count - a[1].count).map(([reason, d]) => `${d.count} ${reason} (first: ${d.first})`);
}

/** A summary of what was read: "862 records: 840 events, 2 without consent, 20 unusable (…)". */
export function summarizeCounts(counts: HistoryCounts): string {
  const parts = [`${counts.events} events`];
  if (counts.tombstones > 0) parts.push(`${counts.tombstones} tombstones`);
  if (counts.noConsent > 0) parts.push(`${counts.noConsent} without analytics consent (ingestion.consent; left out)`);
  if (counts.dead > 0) parts.push(`${counts.dead} unusable: ${describeDead(counts).join('; ')}`);
  return `${counts.records} records: ${parts.join(', ')}`;
}

/** The ingestion of history when the user gave no config: the identity mapping, ClickEvent JSON. */
export function defaultIngestion(): Ingestion {
  return compileIngestion(parseIngestionOptions(undefined));
}

function count(counts: HistoryCounts, result: IngestResult, where: () => string): ClickEvent | undefined {
  counts.records++;
  switch (result.kind) {
    case 'event':
      counts.events++;
      return result.event;
    case 'tombstone':
      counts.tombstones++;
      return undefined;
    case 'no_consent':
      counts.noConsent++;
      return undefined;
    case 'dead': {
      counts.dead++;
      const seen = counts.deadByReason.get(result.reason);
      if (seen) seen.count++;
      else counts.deadByReason.set(result.reason, { count: 1, first: `${where()}: ${result.message}` });
      return undefined;
    }
  }
}

/**
 * Streams the events of a history source through `ingestion`, counting into `counts`. Files
 * are read in file order on partition 0 (offset = line or record number); a topic partition by
 * partition in offset order, partitions interleaved as they are fetched.
 */
export async function* readHistory(source: HistorySource, ingestion: Ingestion, counts: HistoryCounts = emptyCounts()): AsyncGenerator<HistoryEvent> {
  if (source.kind === 'topic') {
    yield* readTopic(source, ingestion, counts);
    return;
  }
  if (!existsSync(source.path)) throw new UserError(ErrorCodes.INPUT_INVALID, `--events ${source.path}: no such file.`, { exitCode: 2 });
  if (isAvroContainer(source.path)) yield* readAvroFile(source.path, ingestion, counts);
  else yield* readJsonLines(source.path, ingestion, counts);
}

const AVRO_MAGIC = Buffer.from('Obj\x01', 'latin1');

/**
 * The first `limit` records of a source, decoded but not mapped (for `inspect`): JSON Lines
 * parsed, an Avro container file's records as written, a topic's values (the first
 * limit / partitions of each partition) by the ingestion format of that topic (JSON unless
 * configured). Undecodable records are counted in `bad`.
 */
export async function sampleRecords(source: HistorySource, ingestion: Ingestion, limit: number): Promise<{ records: object[]; bad: number; read: number }> {
  const records: object[] = [];
  let bad = 0;
  let read = 0;
  const take = (v: object | undefined): boolean => {
    read++;
    if (v === undefined) bad++;
    else records.push(v);
    return read >= limit;
  };
  if (source.kind === 'topic') {
    // An even share of every partition, in partition and offset order: the same sample however
    // the partitions' batches interleave, and every partition represented.
    const admin = source.kafka.admin();
    await admin.connect();
    let partitions: number;
    try {
      partitions = Math.max(1, (await admin.fetchTopicOffsets(source.topic).catch(() => [])).length);
    } finally {
      await admin.disconnect();
    }
    const decoder = ingestion.forTopic(source.topic).decoder;
    const all: IngestRecord[] = [];
    for await (const r of readTopicRecords({ ...source, maxPerPartition: Math.ceil(limit / partitions) })) all.push(r);
    all.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    for (const r of all) {
      const d = r.value === null ? undefined : decoder.decode(r.value);
      if (take(d?.ok ? d.value : undefined)) break;
    }
    return { records, bad, read };
  }
  if (!existsSync(source.path)) throw new UserError(ErrorCodes.INPUT_INVALID, `--events ${source.path}: no such file.`, { exitCode: 2 });
  if (isAvroContainer(source.path)) {
    const decoder = new avsc.streams.BlockDecoder({ parseHook: (schema: unknown) => parseIngestSchema(schema) } as unknown as ConstructorParameters<typeof avsc.streams.BlockDecoder>[0]);
    const stream = createReadStream(source.path).pipe(decoder);
    for await (const v of stream as AsyncIterable<unknown>) if (take(typeof v === 'object' && v !== null ? v : undefined)) break;
    stream.destroy();
    return { records, bad, read };
  }
  const stream = createReadStream(source.path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        v = undefined;
      }
      if (take(typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined)) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { records, bad, read };
}

function isAvroContainer(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(AVRO_MAGIC);
  } finally {
    closeSync(fd);
  }
}

async function* readJsonLines(path: string, ingestion: Ingestion, counts: HistoryCounts): AsyncGenerator<HistoryEvent> {
  const topic = basename(path);
  const stream = createReadStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const value = Buffer.from(line, 'utf8');
      const record: IngestRecord = { topic, partition: 0, offset: BigInt(lineNo), key: null, value };
      const event = count(counts, ingest(record, ingestion), () => `${path}:${lineNo}`);
      if (event !== undefined) yield { event, partition: 0, offset: record.offset, value };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

async function* readAvroFile(path: string, ingestion: Ingestion, counts: HistoryCounts): AsyncGenerator<HistoryEvent> {
  const topic = basename(path);
  const mapping = ingestion.forTopic(topic).rules.mapping;
  // Records are decoded by the file's writer schema, then encoded again (Avro's binary encoding
  // of a record is unique): the bytes go through the same Avro guard and decoder as a topic's
  // (with the identity mapping, resolved against click-event.avsc) and feed eventIdFallback hash.
  const decoder = new avsc.streams.BlockDecoder({ parseHook: (schema: unknown) => parseIngestSchema(schema) } as unknown as ConstructorParameters<typeof avsc.streams.BlockDecoder>[0]);
  let writer: Type | undefined;
  let decode: ((value: Buffer) => ReturnType<ReturnType<typeof avroDecoder>['decode']>) | undefined;
  decoder.on('metadata', (type: Type) => {
    writer = type;
    decode = avroDecoder(createAvroReader(type, { identityMapping: mapping.identity, source: path, option: '--events' })).decode;
  });
  const stream = createReadStream(path).pipe(decoder);
  let n = 0;
  try {
    for await (const decodedRecord of stream as AsyncIterable<unknown>) {
      n++;
      const value = writer!.toBuffer(decodedRecord);
      const record: IngestRecord = { topic, partition: 0, offset: BigInt(n), key: null, value };
      const decoded = decode!(value);
      const result: IngestResult = decoded.ok ? ingestDecoded(decoded.value, record, ingestion) : { kind: 'dead', reason: decoded.reason, message: decoded.message };
      const event = count(counts, result, () => `${path} record ${n}`);
      if (event !== undefined) yield { event, partition: 0, offset: record.offset, value };
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(ErrorCodes.INPUT_INVALID, `--events ${path}: not a readable Avro container file (${(err as Error).message}).`, { exitCode: 2, cause: err });
  }
}

/** Parses --from/--until: earliest, latest, offset:N, a time in ms, or an ISO-8601 date-time. */
export function parseTopicPosition(text: string, option: string): TopicPosition {
  const s = text.trim();
  if (s === 'earliest' || s === 'latest') return { kind: s };
  const off = /^offset:(\d+)$/.exec(s);
  if (off) return { kind: 'offset', offset: BigInt(off[1]!) };
  if (/^\d{10,}$/.test(s)) return { kind: 'time', ms: Number(s) };
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isNaN(ms)) return { kind: 'time', ms };
  throw new UserError(
    ErrorCodes.CONFIG_INVALID,
    `${option} must be earliest, latest, offset:N (that offset on every partition), a record timestamp in ms, or an ISO-8601 date-time such as 2026-11-01T00:00:00Z; got "${text}".`,
    { exitCode: 2 },
  );
}

interface PartitionRange {
  partition: number;
  from: bigint;
  /** Exclusive. */
  until: bigint;
}

async function resolveRanges(admin: Admin, topic: string, from: TopicPosition, until: TopicPosition): Promise<PartitionRange[]> {
  const bounds = await admin.fetchTopicOffsets(topic);
  const at = async (p: TopicPosition): Promise<Map<number, bigint>> => {
    const out = new Map<number, bigint>();
    const byTime = p.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, p.ms) : [];
    for (const b of bounds) {
      const low = BigInt(b.low);
      const high = BigInt(b.high);
      let o: bigint;
      if (p.kind === 'earliest') o = low;
      else if (p.kind === 'latest') o = high;
      else if (p.kind === 'offset') o = p.offset;
      else {
        // -1: no record at or after that time, i.e. the end
        const found = byTime.find((x) => x.partition === b.partition)?.offset;
        o = found === undefined || found === '-1' ? high : BigInt(found);
      }
      out.set(b.partition, o < low ? low : o > high ? high : o);
    }
    return out;
  };
  const starts = await at(from);
  const ends = await at(until);
  return bounds.map((b) => ({ partition: b.partition, from: starts.get(b.partition)!, until: ends.get(b.partition)! })).sort((a, b) => a.partition - b.partition);
}

async function* readTopic(source: Extract<HistorySource, { kind: 'topic' }>, ingestion: Ingestion, counts: HistoryCounts): AsyncGenerator<HistoryEvent> {
  for await (const record of readTopicRecords(source)) {
    const event = count(counts, ingest(record, ingestion), () => `${record.topic}/${record.partition}@${record.offset}`);
    if (event !== undefined) yield { event, partition: record.partition, offset: record.offset, value: record.value ?? Buffer.alloc(0) };
  }
}

/** The raw records of a topic between its positions, partition by partition in offset order (for `inspect`, and history). */
export async function* readTopicRecords(source: Extract<HistorySource, { kind: 'topic' }>): AsyncGenerator<IngestRecord> {
  const { kafka, topic } = source;
  const admin = kafka.admin();
  await admin.connect();
  let ranges: PartitionRange[];
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new UserError(ErrorCodes.CONFIG_INVALID, `--topic ${topic}: no such topic on the cluster.`, { exitCode: 2 });
    ranges = await resolveRanges(admin, topic, source.from ?? { kind: 'earliest' }, source.until ?? { kind: 'latest' });
    const max = source.maxPerPartition;
    if (max !== undefined) ranges = ranges.map((r) => ({ ...r, until: r.until - r.from > BigInt(max) ? r.from + BigInt(max) : r.until }));
  } finally {
    await admin.disconnect();
  }
  const pending = new Map(ranges.filter((r) => r.until > r.from).map((r) => [r.partition, r]));
  if (pending.size === 0) return;

  // A throwaway group: it commits nothing, and is deleted at the end.
  const groupId = `journeylens-history-${createHash('sha256').update(`${topic}${process.pid}${Date.now()}${Math.random()}`).digest('hex').slice(0, 12)}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  // The consumer hands batches over through a one-slot channel: it waits until the reader took
  // the batch, so a large topic is never held in memory.
  let slot: { records: IngestRecord[]; taken: () => void } | undefined;
  let wake: (() => void) | undefined;
  let release: (() => void) | undefined;
  let stopped = false;
  let failure: unknown;
  let finished = false;
  const signal = (): void => {
    wake?.();
    wake = undefined;
  };
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const range = pending.get(batch.partition);
        if (range === undefined || stopped) return;
        const out: IngestRecord[] = [];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < range.from) continue;
          if (offset >= range.until) break;
          out.push(toIngestRecord(batch.topic, batch.partition, m));
          resolveOffset(m.offset);
        }
        const last = batch.messages.at(-1);
        if (last !== undefined && BigInt(last.offset) + 1n >= range.until) {
          pending.delete(batch.partition);
          consumer.pause([{ topic, partitions: [batch.partition] }]);
        }
        if (out.length > 0 && !stopped) {
          await new Promise<void>((taken) => {
            slot = { records: out, taken };
            signal();
          });
        }
        if (pending.size === 0) {
          finished = true;
          signal();
        }
        await heartbeat();
      },
    });
    consumer.on(consumer.events.CRASH, (e) => {
      failure = e.payload.error;
      signal();
    });
    for (const r of pending.values()) consumer.seek({ topic, partition: r.partition, offset: String(r.from) });
    const idle = ranges.filter((r) => !pending.has(r.partition)).map((r) => r.partition);
    if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
    for (;;) {
      if (slot !== undefined) {
        const { records, taken } = slot;
        slot = undefined;
        release = taken;
        for (const e of records) yield e;
        release = undefined;
        taken();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // a batch handler still waiting (its batch offered, or being read when the reader stopped
    // early, e.g. inspect's sample) must not hold the disconnect up
    stopped = true;
    (slot as { taken: () => void } | undefined)?.taken();
    (release as (() => void) | undefined)?.();
    await consumer.disconnect().catch(() => undefined);
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => cleanup.disconnect().catch(() => undefined));
  }
}
