// Produces output records (signals, alerts, dead letters) with an idempotent kafkajs producer;
// send() resolves only when the broker acknowledged every record (acks=all).
import { CompressionTypes, type IHeaders, type Kafka, type Producer } from 'kafkajs';

export interface OutRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

export class KafkaSink {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async send(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, OutRecord[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r);
      else byTopic.set(r.topic, [r]);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })),
      })),
    });
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
