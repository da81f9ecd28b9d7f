// Per-partition event-time watermarks. A partition's watermark is the greatest event time seen
// on it minus the allowed lateness; partitions are independent because Kafka orders events only
// within a partition. An idle partition (no events for idleTimeoutMs of processing time) lets
// its watermark move on with the clock, so its last sessions still close.

export interface WatermarkOptions {
  allowedLatenessMs: number;
  /** Processing-time idleness after which a partition's watermark follows the clock; off when undefined. */
  idleTimeoutMs?: number;
}

export class PartitionWatermarks {
  readonly #lateness: number;
  readonly #idle: number | undefined;
  readonly #maxTs = new Map<number, number>();
  readonly #lastArrival = new Map<number, number>();

  constructor(options: WatermarkOptions) {
    this.#lateness = options.allowedLatenessMs;
    this.#idle = options.idleTimeoutMs;
  }

  /** Records an event; `now` is processing time (the scheduler's clock). Returns the new watermark. */
  observe(partition: number, ts: number, now: number): number {
    const max = this.#maxTs.get(partition);
    // an idle advance already moved the watermark: never let it go back
    const current = this.get(partition, now);
    if (max === undefined || ts > max) this.#maxTs.set(partition, ts);
    this.#lastArrival.set(partition, now);
    const wm = this.#maxTs.get(partition)! - this.#lateness;
    if (wm < current) this.#maxTs.set(partition, current + this.#lateness);
    return Math.max(wm, current);
  }

  /** The partition's watermark at processing time `now` (-Infinity before its first event). */
  get(partition: number, now?: number): number {
    const max = this.#maxTs.get(partition);
    if (max === undefined) return -Infinity;
    let wm = max - this.#lateness;
    if (this.#idle !== undefined && now !== undefined) {
      const idleFor = now - this.#lastArrival.get(partition)! - this.#idle;
      if (idleFor > 0) wm += idleFor;
    }
    return wm;
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
    this.#maxTs.delete(partition);
    this.#lastArrival.delete(partition);
  }
}
