// The one place that answers "when do we commit". For every input partition it tracks what was
// received, what open and closed sessions still need (low-watermark rule + closed-span guard),
// how far outputs were published before a restart (replay marks in the commit metadata), and
// how many records are in flight (flow control pauses partitions above a high-water mark). A
// tick commits in one order: produce its outputs, then commit its plan (or both in one Kafka
// transaction in exactly-once mode), retrying while the broker is unreachable; only then are
// the plan applied and its records released.
import { type Logger } from 'pino';
import { type RecordSource } from '../../consumers/source.ts';
import { type OutputSink, type OutRecord } from '../../sinks/kafka-sink.ts';
import { type TopicPartition, tpKey } from './topic-partition.ts';
import { ClosedSpans } from './closed-spans.ts';
import { type CommitPlan, CommitPlanner, parseReplayMark } from './commit-planner.ts';
import { isGroupMovedOn, withDeliveryRetries } from './delivery.ts';
import { FlowControl } from './flow-control.ts';

export interface CheckpointOptions {
  source: Pick<RecordSource, 'commit' | 'committed' | 'pause' | 'resume'>;
  sink: Pick<OutputSink, 'send' | 'commitWith'>;
  group: string;
  exactlyOnce: boolean;
  /** Records in flight above which partitions are paused. */
  maxInFlight: number;
  /** The oldest offset an open session of this partition still needs (the session store's low watermark). */
  heldFrom: (topic: string, partition: number) => bigint | undefined;
  log: Logger;
}

export class Checkpoint {
  private readonly planner = new CommitPlanner();
  private readonly spans = new ClosedSpans();
  private readonly flow: FlowControl;
  /** Per topic-partition: records below this offset were published before (commit metadata). */
  private readonly replayUntil = new Map<string, bigint>();
  private replayReady: Promise<void> = Promise.resolve();

  constructor(private readonly options: CheckpointOptions) {
    const high = Math.max(2, options.maxInFlight);
    this.flow = new FlowControl(
      {
        pause: (tps) => options.source.pause(tps),
        resume: (tps) => options.source.resume(tps),
      },
      {
        highWater: high,
        lowWater: Math.floor(high / 2),
        onPause: (n) => options.log.info({ inFlight: n }, 'backpressure: pausing partitions until the pipeline catches up'),
        onResume: (n) => options.log.info({ inFlight: n }, 'backpressure released: resuming partitions'),
      },
    );
  }

  /** True while flow control holds partitions paused (their silence is not idleness). */
  get isPaused(): boolean {
    return this.flow.isPaused;
  }

  /** Resolves once the replay marks of the current assignment were read (batches wait for it). */
  get ready(): Promise<void> {
    return this.replayReady;
  }

  /**
   * A new assignment: reads the group's commit metadata, so records that are re-read below the
   * replay mark rebuild state without publishing their outputs again.
   */
  assign(topics: string[]): void {
    this.replayReady = this.options.source
      .committed(topics)
      .then((committed) => {
        for (const c of committed) {
          const mark = parseReplayMark(c.metadata);
          const k = tpKey(c.topic, c.partition);
          if (mark !== undefined) this.replayUntil.set(k, mark);
          else this.replayUntil.delete(k);
        }
        const replaying = [...this.replayUntil.values()].filter((v) => v > 0n).length;
        if (replaying > 0) this.options.log.info({ partitions: replaying }, 'rebuilding sessions from committed offsets; already-published outputs are not published again');
      })
      .catch((err: unknown) => {
        // without the marks, replayed outputs are published again (at-least-once duplicates)
        this.options.log.warn({ err }, 'could not read the commit metadata; replayed records will publish again');
      });
  }

  /** Partitions lost in a rebalance: their sessions are rebuilt by the new owner. */
  revoke(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      this.spans.forget(tp.topic, tp.partition);
      this.replayUntil.delete(tpKey(tp.topic, tp.partition));
    }
    this.planner.revoke(partitions);
  }

  /** The partition's replay mark: records below it were published before a restart. */
  replayMark(topic: string, partition: number): bigint | undefined {
    return this.replayUntil.get(tpKey(topic, partition));
  }

  isReplay(topic: string, partition: number, offset: bigint): boolean {
    const until = this.replayUntil.get(tpKey(topic, partition));
    return until !== undefined && offset < until;
  }

  /** A record was handed to the pipeline. */
  receive(topic: string, partition: number, offset: bigint): void {
    this.planner.receive(topic, partition, offset);
  }

  /** `count` records of a partition were handed over (they are in flight until their tick commits). */
  admit(topic: string, partition: number, count: number): void {
    this.flow.admit(topic, partition, count);
  }

  /** A session of this partition closed; its events were at offsets first..last. */
  closedSession(topic: string, partition: number, first: bigint, last: bigint): void {
    this.spans.add(topic, partition, first, last);
  }

  /**
   * The commit plan of a tick, taken when the tick is cut: for each partition, no later than the
   * first event of any open session, nor inside the span of a closed session whose events reach
   * past it.
   */
  plan(): CommitPlan {
    return this.planner.plan((topic, partition, next) => {
      let c = next;
      const held = this.options.heldFrom(topic, partition);
      if (held !== undefined && held < c) c = held;
      c = this.spans.clamp(topic, partition, c);
      return c < next ? c : undefined;
    });
  }

  /**
   * Produces a tick's outputs and commits its plan (one transaction in exactly-once mode),
   * retrying while the broker is unreachable; then applies the plan and releases the tick's
   * `records` from flow control. `onPublished` runs once the outputs are acknowledged (in
   * exactly-once mode: committed), before the offsets are committed (at-least-once).
   */
  async commit(out: OutRecord[], planned: CommitPlan, records: number, onPublished?: () => void): Promise<void> {
    const { source, sink, exactlyOnce, group, log } = this.options;
    // a tick cut before a rebalance: its revoked partitions are not committed (they are re-read)
    const plan = this.planner.current(planned);
    let published = false;
    let committed = true;
    const publishedNow = (): void => {
      if (published) return;
      published = true;
      onPublished?.();
    };
    await withDeliveryRetries(async () => {
      if (exactlyOnce) {
        await sink.commitWith(out, { consumerGroupId: group, offsets: plan.offsets });
        publishedNow();
      } else {
        // a retry after a failed commit produces the outputs again (at-least-once duplicates,
        // recognisable by their ids); they were published the first time
        await sink.send(out);
        publishedNow();
        try {
          await source.commit(plan.offsets);
        } catch (err) {
          // A commit that lands in a rebalance is refused; the pipeline must not fail for it (it
          // did, under load: an instance stopped for good when a second one joined). The rejoin
          // re-reads every assigned partition from its committed offset, and the replay marks
          // keep what was published from being published again; the plan is not applied.
          if (!isGroupMovedOn(err)) throw err;
          committed = false;
          log.info({ err: (err as Error).message, partitions: plan.offsets.length }, 'offset commit refused: the consumer group is rebalancing; the partitions are read again from their committed offsets');
        }
      }
    }, log);
    if (committed) this.planner.applied(plan);
    this.flow.release(records);
  }
}
