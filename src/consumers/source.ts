// The Kafka consumer behind a small interface, so the pipeline does not depend on kafkajs and a
// second client could be added later. Offsets become bigints here (kafkajs gives decimal
// strings) and stay bigints until commit() hands them back to kafkajs.
import { type Consumer, type Kafka } from 'kafkajs';
import { type IngestRecord, type RecordHeaders } from '../contracts/ingest-record.ts';

/** A consumed record: what ingestion reads, with headers and timestamp always present. Its offset (int64) is a bigint from here to the commit. */
export interface SourceRecord extends IngestRecord {
  headers: RecordHeaders;
  /** Broker/producer timestamp, ms as a decimal string. */
  timestamp: string;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's commit convention); -1 when the group has committed none. */
  offset: bigint;
  /** Stored with the commit (journeylens records its replay mark here). */
  metadata?: string;
}

export interface BatchContext {
  /** Keeps the group membership alive during long batches. */
  heartbeat(): Promise<void>;
  /** False once stop() was called or the partition was revoked. */
  isRunning(): boolean;
}

export interface RecordSource {
  /**
   * Joins the group and calls onBatch for each fetched batch, one partition at a time. onBatch
   * resolving false did not take the batch: it paused the partition, and the batch is fetched
   * again once the partition is resumed.
   */
  run(onBatch: (records: SourceRecord[], ctx: BatchContext) => Promise<void | false>): Promise<void>;
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** The group's committed offsets and their metadata for these topics. */
  committed(topics: string[]): Promise<TopicPartitionOffset[]>;
  pause(topics: { topic: string; partitions?: number[] }[]): void;
  resume(topics: { topic: string; partitions?: number[] }[]): void;
  stop(): Promise<void>;
}

export interface KafkajsSourceOptions {
  group: string;
  topics: (string | RegExp)[];
  fromBeginning: boolean;
  /** Called when the consumer joins the group, with its partition assignment. */
  onJoin?: (assignment: { topic: string; partitions: number[] }[]) => void;
  /** Restarts of the consumer after a crash before giving up (then onCrash gets restart=false). */
  maxRestarts?: number;
  /** Group session timeout (ms); heartbeats go every tenth of it. */
  sessionTimeoutMs?: number;
  /** Called when kafkajs reports a crash; `restart` says whether kafkajs restarts by itself. */
  onCrash?: (error: Error, restart: boolean) => void;
  /** Called with the number of paused partitions after every pause, resume and join. */
  onPausedChange?: (paused: number) => void;
}

export class KafkajsSource implements RecordSource {
  private readonly consumer: Consumer;
  private connected = false;
  private restarts = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkajsSourceOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.group,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
      maxWaitTimeInMs: 250,
      retry: {
        retries: 10,
        // Bounded restarts: after maxRestarts crashes the processor exits non-zero instead of
        // looping forever.
        restartOnFailure: async () => ++this.restarts <= (options.maxRestarts ?? 5),
      },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assignment = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions }));
      options.onJoin?.(assignment);
      this.reportPaused();
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => options.onCrash?.(e.payload.error, e.payload.restart));
  }

  async run(onBatch: (records: SourceRecord[], ctx: BatchContext) => Promise<void | false>): Promise<void> {
    await this.consumer.connect();
    this.connected = true;
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.messages.length === 0 || isStale()) return;
        const records: SourceRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: BigInt(m.offset),
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
          timestamp: m.timestamp,
        }));
        // Not resolved: kafkajs fetches from the last resolved offset when the partition resumes.
        if ((await onBatch(records, { heartbeat, isRunning: () => isRunning() && !isStale() })) === false) return;
        // Marks the batch as handed over, so the next fetch continues after it. What is safe to
        // commit is decided separately, by the pipeline (commit()).
        resolveOffset(batch.messages[batch.messages.length - 1]?.offset ?? batch.lastOffset());
      },
    });
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length > 0) await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString(), metadata: o.metadata ?? null })));
  }

  async committed(topics: string[]): Promise<TopicPartitionOffset[]> {
    if (topics.length === 0) return [];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const res = await admin.fetchOffsets({ groupId: this.options.group, topics });
      return res.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset), ...(p.metadata ? { metadata: p.metadata } : {}) })));
    } finally {
      await admin.disconnect();
    }
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer.pause(topics);
    this.reportPaused();
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer.resume(topics);
    this.reportPaused();
  }

  private reportPaused(): void {
    if (this.options.onPausedChange) this.options.onPausedChange(this.consumer.paused().reduce((n, t) => n + t.partitions.length, 0));
  }

  async stop(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.consumer.disconnect();
  }
}
