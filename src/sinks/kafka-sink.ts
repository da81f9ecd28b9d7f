// Produces output records (signals, alerts, dead letters) with an idempotent kafkajs producer;
// send() resolves only when the broker acknowledged every record (acks=all).
// With a transactional id (--exactly-once), commitWith() puts the outputs of a tick and the
// input offsets they cover in one Kafka transaction, so a read_committed reader sees each
// output once even when the processor is killed mid-transaction.
import { CompressionTypes, type IHeaders, type Kafka, type Producer, type TopicMessages } from 'kafkajs';

export interface OutRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

export interface SinkOffsets {
  consumerGroupId: string;
  offsets: { topic: string; partition: number; offset: string }[];
}

export interface KafkaSinkOptions {
  /** Enables transactions (exactly-once). Must be stable across restarts of the same instance. */
  transactionalId?: string;
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

export class KafkaSink {
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
    if (records.length === 0) return;
    await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: byTopic(records) });
  }

  /** Exactly-once: the records and the consumer offsets commit atomically, or not at all. */
  async commitWith(records: OutRecord[], offsets: SinkOffsets): Promise<void> {
    if (!this.transactional) throw new Error('commitWith() needs a transactional sink (exactly-once mode)');
    if (records.length === 0 && offsets.offsets.length === 0) return;
    const txn = await this.producer.transaction();
    try {
      if (records.length > 0) await txn.sendBatch({ acks: -1, topicMessages: byTopic(records) });
      if (offsets.offsets.length > 0) {
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const o of offsets.offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
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
