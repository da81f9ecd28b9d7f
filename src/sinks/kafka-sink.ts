// Produces output records (signals, alerts, dead letters) with an idempotent kafkajs producer;
// send() resolves only when the broker acknowledged every record (acks=all). The processor
// produces through it in exactly-once mode only; at-least-once runs on PlatformaticSink.
// With a transactional id (--exactly-once), commitWith() puts the outputs of a tick and the
// input offsets they cover in one Kafka transaction, so a read_committed reader sees each
// output once even when the processor is killed mid-transaction.
import { CompressionTypes, type IHeaders, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export interface OutRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

export interface SinkOffsets {
  consumerGroupId: string;
  offsets: { topic: string; partition: number; offset: bigint; metadata?: string }[];
}

/** What the processor produces through: PlatformaticSink (at-least-once) or KafkaSink (transactions, --exactly-once). */
export interface OutputSink {
  readonly transactional: boolean;
  connect(): Promise<void>;
  /** At-least-once: resolves when every record is acknowledged (acks=all). */
  send(records: OutRecord[]): Promise<void>;
  /** Exactly-once: the records and the consumer offsets commit atomically, or not at all. */
  commitWith(records: OutRecord[], offsets: SinkOffsets): Promise<void>;
  disconnect(): Promise<void>;
}

export interface KafkaSinkOptions {
  /** Enables transactions (exactly-once). Must be stable across restarts of the same instance. */
  transactionalId?: string;
}

/**
 * Splits records into requests well under the broker's default message.max.bytes (1 MiB per
 * record batch): a burst of signals must not become one request the broker refuses.
 */
export function chunkRecords(records: OutRecord[], maxBytes = 512 * 1024, maxCount = 2000): OutRecord[][] {
  const chunks: OutRecord[][] = [];
  let cur: OutRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r);
    if (cur.length > 0 && (bytes + size > maxBytes || cur.length >= maxCount)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

function byteLength(v: string | Buffer | null | undefined): number {
  return v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** A record's size on the wire, roughly: key, value, every header (dead letters carry a dozen) and framing. */
export function recordBytes(r: OutRecord): number {
  let size = byteLength(r.key) + byteLength(r.value) + 64;
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) size += Buffer.byteLength(name) + byteLength(v as string | Buffer | undefined) + 8;
  }
  return size;
}

function byTopic(records: OutRecord[]): TopicMessages[] {
  const groups = new Map<string, OutRecord[]>();
  for (const r of records) {
    const list = groups.get(r.topic);
    if (list) list.push(r);
    else groups.set(r.topic, [r]);
  }
  return [...groups].map(([topic, rs]) => ({
    topic,
    messages: rs.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })),
  }));
}

export class KafkaSink implements OutputSink {
  private readonly producer: Producer;
  private connected = false;
  readonly transactional: boolean;

  constructor(kafka: Kafka, options: KafkaSinkOptions = {}) {
    this.transactional = options.transactionalId !== undefined;
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      ...(options.transactionalId ? { transactionalId: options.transactionalId, transactionTimeout: 60_000 } : {}),
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** At-least-once: resolves when every record is acknowledged. */
  async send(records: OutRecord[]): Promise<void> {
    for (const chunk of chunkRecords(records)) {
      await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: byTopic(chunk) });
    }
  }

  /** Exactly-once: the records and the consumer offsets commit atomically, or not at all. */
  async commitWith(records: OutRecord[], offsets: SinkOffsets): Promise<void> {
    if (!this.transactional) throw new JourneylensError(ErrorCodes.INTERNAL, 'commitWith() needs a transactional sink (exactly-once mode)');
    if (records.length === 0 && offsets.offsets.length === 0) return;
    const txn = await this.producer.transaction();
    try {
      for (const chunk of chunkRecords(records)) await txn.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
      if (offsets.offsets.length > 0) {
        const topics = new Map<string, { partition: number; offset: string; metadata: string | null }[]>();
        for (const o of offsets.offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: o.offset.toString(), metadata: o.metadata ?? null }]);
        await txn.sendOffsets({ consumerGroupId: offsets.consumerGroupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
      }
      await txn.commit();
    } catch (err) {
      if (txn.isActive()) await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
