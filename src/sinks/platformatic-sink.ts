// Produces output records with @platformatic/kafka's idempotent producer (acks=all): the
// processor's sink in at-least-once mode. In the same benchmark run it passed records on about
// twice as fast as the kafkajs producer (bench/pipeline-throughput.ts, docs/benchmarks.md).
// Keys go to the partitions kafkajs's default partitioner picks (Java-compatible murmur2), so
// readers keyed on session or user see the same partitions as before; records without a key are
// spread round-robin, as kafkajs does. Exactly-once stays on KafkaSink (docs/architecture.md).
import { compatibilityPartitioner, type MessageToProduce, type Partitioner, ProduceAcks, Producer, type ProducerOptions } from '@platformatic/kafka';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { chunkRecords, type OutputSink, type OutRecord } from './kafka-sink.ts';


type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const toBuffer = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/** kafkajs's default partitioner for keyed records (murmur2, sign bit masked), round-robin per topic for the rest. */
export function keyedPartitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  const next = new Map<string, number>();
  return (message, key) => {
    if (key !== undefined && key !== null) return compatibilityPartitioner(message, key);
    const n = next.get(message.topic) ?? 0;
    next.set(message.topic, n + 1 >= 0x7fffffff ? 0 : n + 1);
    return n;
  };
}

export function toMessage(r: OutRecord): Message {
  const m: Message = { topic: r.topic };
  if (r.key !== null) m.key = toBuffer(r.key);
  if (r.value !== null) m.value = toBuffer(r.value);
  if (r.headers) {
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(r.headers)) {
      if (value === undefined) continue;
      // a repeated header (kafkajs takes an array) is one header per value on the wire
      for (const v of Array.isArray(value) ? value : [value]) headers.set(Buffer.from(name), toBuffer(v));
    }
    m.headers = headers;
  }
  return m;
}

export class PlatformaticSink implements OutputSink {
  readonly transactional = false;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private connecting: Promise<void> | undefined;
  /**
   * Sends go out one after another: the idempotent producer numbers each partition's records
   * when it sends and counts them only when the broker answers, so two sends under way to one
   * partition would carry the same sequence numbers (the webhook's delivered marks and parked
   * alerts go out beside the ticks' outputs). kafkajs did the same with maxInFlightRequests: 1.
   */
  private queue: Promise<unknown> = Promise.resolve();

  /** `connection`: brokers, client id, timeouts, TLS and SASL (platformaticConnection() in consumers/kafka-client.ts builds them from the config). */
  constructor(connection: Omit<ProducerOptions<Buffer, Buffer, Buffer, Buffer>, 'idempotent' | 'acks' | 'partitioner' | 'autocreateTopics'>) {
    this.producer = new Producer({ ...connection, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false, partitioner: keyedPartitioner() });
  }

  /** Connects and takes a producer id, so wrong credentials or brokers fail here, not on the first tick. */
  async connect(): Promise<void> {
    this.connecting ??= this.producer.initIdempotentProducer({ idempotent: true, acks: ProduceAcks.ALL }).then(() => undefined);
    try {
      await this.connecting;
    } catch (err) {
      this.connecting = undefined;
      throw err;
    }
  }

  /** At-least-once: resolves when every record is acknowledged. */
  send(records: OutRecord[]): Promise<void> {
    const run = this.queue.then(async () => {
      for (const chunk of chunkRecords(records)) await this.producer.send({ messages: chunk.map(toMessage) });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  commitWith(): Promise<void> {
    return Promise.reject(new JourneylensError(ErrorCodes.INTERNAL, 'commitWith() needs a transactional sink (exactly-once mode runs on KafkaSink)'));
  }

  async disconnect(): Promise<void> {
    await this.queue;
    await this.producer.close();
  }
}
