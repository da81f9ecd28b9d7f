// Decides which input offsets are safe to commit (the low-watermark rule of DESIGN "Delivery
// and recovery"): for each partition, commit no later than
//   - the oldest offset still held by an open session (its state is rebuilt by re-reading), and
//   - one past the last record whose outputs the broker has acknowledged.
// A tick snapshots what was received, runs, sends its outputs, and only after the ack is its
// plan turned into a commit; ticks are applied in order.
import { type TopicPartition, tpKey } from './topic-partition.ts';

export interface CommitOffset extends TopicPartition {
  /** The next offset to read (Kafka's commit convention). */
  offset: bigint;
  /** The replay mark (see replayMark). */
  metadata: string;
}

export interface CommitPlan {
  /**
   * Offsets to commit, each with metadata that records how far outputs were published (see
   * replayMark): after a restart, re-read records below that mark rebuild state without
   * publishing again.
   */
  offsets: CommitOffset[];
}

const MARK_PREFIX = 'jl1:';

/** Commit metadata saying that the outputs of every record below `publishedUpTo` were published. */
export function replayMark(publishedUpTo: bigint): string {
  return `${MARK_PREFIX}${publishedUpTo}`;
}

/** The offset below which records were already published, from commit metadata (undefined if none). */
export function parseReplayMark(metadata: string | null | undefined): bigint | undefined {
  if (!metadata?.startsWith(MARK_PREFIX)) return undefined;
  try {
    return BigInt(metadata.slice(MARK_PREFIX.length));
  } catch {
    return undefined;
  }
}

/**
 * One plan for consecutive ticks delivered together: per partition the latest tick's offset and
 * replay mark. Committing it is what committing the plans one after another ends with.
 */
export function mergePlans(plans: readonly CommitPlan[]): CommitPlan {
  if (plans.length === 1) return plans[0]!;
  const merged = new Map<string, CommitOffset>();
  for (const p of plans) for (const o of p.offsets) merged.set(tpKey(o.topic, o.partition), o);
  return { offsets: [...merged.values()] };
}

export class CommitPlanner {
  /** Highest offset received (handed to the pipeline) per partition. */
  private readonly received = new Map<string, { topic: string; partition: number; offset: bigint }>();
  /** Last committed offset per partition, so commits never go backwards. */
  private readonly committed = new Map<string, bigint>();
  /** Last committed "published up to" mark per partition. */
  private readonly marks = new Map<string, bigint>();
  /**
   * Revocations so far, and the count at each partition's last revocation; each planned offset
   * is stamped with the count when it was planned. An offset planned before its partition was
   * revoked is stale: a tick cut before a rebalance is delivered after it.
   */
  private revocations = 0;
  private readonly revokedAt = new Map<string, number>();
  private readonly plannedAt = new WeakMap<CommitOffset, number>();

  /** Records that a record was handed to the pipeline (in partition order). */
  receive(topic: string, partition: number, offset: bigint): void {
    const k = tpKey(topic, partition);
    const cur = this.received.get(k);
    if (!cur) this.received.set(k, { topic, partition, offset });
    else if (offset > cur.offset) cur.offset = offset;
  }

  /**
   * Plans a commit for a tick. `oldestHeld(topic, partition, next)` returns the oldest offset
   * still needed by that partition (after the tick closed what it closed) when it is below
   * `next`, else undefined. Call `applied(plan)` once the tick's outputs were acknowledged.
   */
  plan(oldestHeld: (topic: string, partition: number, next: bigint) => bigint | undefined): CommitPlan {
    const offsets: CommitOffset[] = [];
    for (const [k, r] of this.received) {
      const published = r.offset + 1n;
      let next = published;
      const held = oldestHeld(r.topic, r.partition, published);
      if (held !== undefined && held < next) next = held;
      const prev = this.committed.get(k);
      const prevMark = this.marks.get(k);
      if (prev !== undefined && next <= prev && prevMark !== undefined && published <= prevMark) continue;
      const o: CommitOffset = { topic: r.topic, partition: r.partition, offset: prev !== undefined && next < prev ? prev : next, metadata: replayMark(published) };
      this.plannedAt.set(o, this.revocations);
      offsets.push(o);
    }
    return { offsets };
  }

  /**
   * The plan without the offsets of partitions revoked since they were planned. Committing those
   * would move the commit of a partition another member may own now, and applying them would
   * bring back the revoked partition's last commit: once the partition came back, re-read from
   * an earlier offset, commits could not go below it even where an open session needs them to.
   */
  current(plan: CommitPlan): CommitPlan {
    const offsets = plan.offsets.filter((o) => (this.revokedAt.get(tpKey(o.topic, o.partition)) ?? 0) <= (this.plannedAt.get(o) ?? this.revocations));
    return offsets.length === plan.offsets.length ? plan : { offsets };
  }

  /** The plan's offsets were committed. */
  applied(plan: CommitPlan): void {
    for (const o of this.current(plan).offsets) {
      const k = tpKey(o.topic, o.partition);
      const prev = this.committed.get(k);
      if (prev === undefined || o.offset > prev) this.committed.set(k, o.offset);
      const mark = parseReplayMark(o.metadata);
      if (mark !== undefined) this.marks.set(k, mark);
    }
  }

  /** Forget partitions that were revoked in a rebalance (their state is rebuilt elsewhere). */
  revoke(partitions: TopicPartition[]): void {
    this.revocations++;
    for (const p of partitions) {
      const k = tpKey(p.topic, p.partition);
      this.revokedAt.set(k, this.revocations);
      this.received.delete(k);
      this.committed.delete(k);
      this.marks.delete(k);
    }
  }
}
