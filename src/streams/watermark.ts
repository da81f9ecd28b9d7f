// Per-partition event-time watermarks. A partition's watermark is the greatest event time seen
// on it minus the allowed lateness; partitions are independent because Kafka orders events only
// within a partition. The watermark moves only with events: an idle partition keeps it where it
// is, so an event that arrives after a pause is never judged late because of the pause. What an
// idle partition does to its open sessions is sessionize's business (idleFor).

export interface WatermarkOptions {
  allowedLatenessMs: number;
}

export class PartitionWatermarks {
  readonly #lateness: number;
  readonly #maxTs = new Map<number, number>();
  /** Processing time of each partition's last event (or of the last `touch`). */
  readonly #lastArrival = new Map<number, number>();

  constructor(options: WatermarkOptions) {
    this.#lateness = options.allowedLatenessMs;
  }

  get allowedLatenessMs(): number {
    return this.#lateness;
  }

  /** Records an event; `now` is processing time (the scheduler's clock). Returns the new watermark. */
  observe(partition: number, ts: number, now: number): number {
    const max = this.#maxTs.get(partition);
    if (max === undefined || ts > max) this.#maxTs.set(partition, ts);
    this.#lastArrival.set(partition, now);
    return this.#maxTs.get(partition)! - this.#lateness;
  }

  /** The partition's watermark (-Infinity before its first event). */
  get(partition: number): number {
    const max = this.#maxTs.get(partition);
    return max === undefined ? -Infinity : max - this.#lateness;
  }

  /** How long (processing time) the partition has had no event; 0 before its first. */
  idleFor(partition: number, now: number): number {
    const at = this.#lastArrival.get(partition);
    return at === undefined ? 0 : Math.max(0, now - at);
  }

  /** Counts every partition as active at `now` (e.g. while the consumer is paused, which is not idleness). */
  touchAll(now: number): void {
    for (const p of this.#lastArrival.keys()) this.#lastArrival.set(p, now);
  }

  partitions(): number[] {
    return [...this.#maxTs.keys()];
  }

  /**
   * Forgets a partition (revoked in a rebalance): when it is read again from an older offset,
   * its events must not be judged late against the watermark of the first pass.
   */
  reset(partition: number): void {
    this.#maxTs.delete(partition);
    this.#lastArrival.delete(partition);
  }

  /** Forgets a revoked partition. */
  delete(partition: number): void {
    this.reset(partition);
  }
}
