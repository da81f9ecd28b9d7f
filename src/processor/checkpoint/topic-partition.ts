// A Kafka topic-partition and the one key the processor's maps use for it.

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The map key of a topic-partition (NUL cannot occur in a topic name). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
