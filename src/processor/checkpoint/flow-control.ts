// Backpressure between the Kafka consumer and the rest of the pipeline: records handed over but
// not yet covered by an acknowledged tick are "in flight". Above the high-water mark the
// partitions that deliver are paused (kafkajs stops fetching them, heartbeats go on); once the
// count drains below the low-water mark they are resumed. Memory stays bounded, nothing is dropped.
import { z } from 'zod';
import { componentOptions, parseOptions } from '../../options.ts';
import { type TopicPartition, tpKey } from './topic-partition.ts';

export interface Pausable {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
}

export interface FlowControlOptions {
  highWater: number;
  lowWater: number;
  onPause?: (inFlight: number) => void;
  onResume?: (inFlight: number) => void;
}

const flowControlSchema = z
  .object({ highWater: z.any().optional(), lowWater: z.any().optional() })
  .refine((o) => o.lowWater >= 0 && o.lowWater < o.highWater, {
    path: ['lowWater'],
    error: (issue) => {
      const o = issue.input as { highWater: number; lowWater: number };
      return `(${o.lowWater}) must be at least 0 and below highWater (${o.highWater})`;
    },
  });

export class FlowControl {
  private inFlight = 0;
  private readonly paused = new Map<string, TopicPartition>();

  constructor(
    private readonly target: Pausable,
    private readonly options: FlowControlOptions,
  ) {
    parseOptions(flowControlSchema, options, componentOptions('flow control'));
  }

  get pending(): number {
    return this.inFlight;
  }

  get isPaused(): boolean {
    return this.paused.size > 0;
  }

  /** `count` records of topic/partition were handed to the pipeline. */
  admit(topic: string, partition: number, count: number): void {
    this.inFlight += count;
    if (this.inFlight >= this.options.highWater) {
      const k = tpKey(topic, partition);
      if (!this.paused.has(k)) {
        if (this.paused.size === 0) this.options.onPause?.(this.inFlight);
        this.paused.set(k, { topic, partition });
        this.target.pause([{ topic, partitions: [partition] }]);
      }
    }
  }

  /** `count` in-flight records are done (their outputs acknowledged). */
  release(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
    if (this.paused.size > 0 && this.inFlight <= this.options.lowWater) {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of this.paused.values()) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      this.paused.clear();
      this.target.resume([...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
      this.options.onResume?.(this.inFlight);
    }
  }
}
