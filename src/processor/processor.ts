// The processor: Kafka records → ingestion (decode, map, validate; dead letters) → the
// sessionizer (event time, rolling windows, micro-batches) → the scorer (CNN embedding, nearest
// centroid, churn risk) → signals, alerts, late events → Kafka. When input offsets are committed
// is the checkpoint's to decide (checkpoint/checkpoint.ts): only after the outputs they produced
// were acknowledged, or atomically with them in exactly-once mode.
import { type Logger } from 'pino';
import { Subject, type Subscription, bufferTime, concatMap, filter, map, tap } from 'rxjs';
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type IngestRecord } from '../contracts/ingest-record.ts';
import { type JourneySignal } from '../contracts/records.ts';
import { type SessionScore, type SessionScorer, signalIdFor } from '../contracts/scorer.ts';
import { Checkpoint } from './checkpoint/checkpoint.ts';
import { type CommitPlan } from './checkpoint/commit-planner.ts';
import { type TopicPartition, tpKey } from './checkpoint/topic-partition.ts';
import { ingest, type Ingestion } from '../consumers/ingest.ts';
import { type BatchContext, type RecordSource, type SourceRecord } from '../consumers/source.ts';
import { EventOutcomes, type Metrics } from '../metrics.ts';
import { journeySignalType } from '../contracts/schemas.ts';
import { buildDeadLetter } from '../sinks/dead-letter.ts';
import { type KafkaSink, type OutRecord } from '../sinks/kafka-sink.ts';
import { type ClickEnvelope, type SessionOutcome } from '../streams/outcomes.ts';
import { journeySessions } from '../streams/journey-sessions.ts';
import { PartitionWatermarks } from '../streams/watermark.ts';
import { type SessionStore } from '../streams/session-store.ts';
import { isQuietRescore, type SessionView } from '../journey/session-view.ts';

/** Everything a tick produced besides signals, e.g. alerts; returns extra output records. */
export interface TickHook {
  /**
   * `replay` items re-read records whose outputs were already published before a restart: a
   * hook updates its state from them but must not publish again.
   */
  onScored(items: { view: SessionView; score: SessionScore; signal: JourneySignal; final: boolean; replay: boolean }[]): OutRecord[] | Promise<OutRecord[]>;
  /** Called before the tick's commit: resolves once everything the hook holds was delivered. */
  flush?(): Promise<void>;
  /** Called once at shutdown, after the last tick. */
  close?(): Promise<void>;
}

export interface ProcessorOptions {
  ingestion: Ingestion;
  store: SessionStore;
  scorer: () => SessionScorer;
  signalsTopic: string;
  /** Dead letters; when absent they are logged and counted (never silently dropped). */
  dlqTopic?: string;
  /** Events for closed sessions; defaults to the DLQ topic. */
  lateTopic?: string;
  outputFormat: 'avro' | 'json';
  group: string;
  exactlyOnce: boolean;
  tickMs: number;
  maxBatch: number;
  /** Records in flight above which partitions are paused. */
  maxInFlight: number;
  log: Logger;
  metrics?: Metrics;
  hooks?: TickHook[];
  /** Called for every signal after it was acknowledged (demo console, tests). */
  onSignal?: (signal: JourneySignal) => void;
  now?: () => number;
}

export interface ProcessorStats {
  records: number;
  /** Records that decoded to an event (then: processed, duplicate or late). */
  events: number;
  /** Events that updated a session. */
  processed: number;
  tombstones: number;
  dead: number;
  late: number;
  duplicates: number;
  signals: number;
  /** Outputs not published again while re-reading records that were published before a restart. */
  suppressed: number;
  /** Records re-read below the replay mark (rebuilding sessions after a restart or rebalance). */
  replayed: number;
  ticks: number;
  commits: number;
}

interface ProcEnvelope extends ClickEnvelope {
  record: SourceRecord;
}

interface Tick {
  outcomes: SessionOutcome[];
  deadLetters: OutRecord[];
  plan: CommitPlan;
  records: number;
  /** Events handed to the sessionizer since the previous cut, by source topic. */
  events: Map<string, number>;
}

export class Processor {
  readonly stats: ProcessorStats = { records: 0, events: 0, processed: 0, tombstones: 0, dead: 0, late: 0, duplicates: 0, signals: 0, suppressed: 0, replayed: 0, ticks: 0, commits: 0 };
  private readonly checkpoint: Checkpoint;
  private readonly input = new Subject<ProcEnvelope>();
  private readonly now: () => number;
  private readonly signalType = journeySignalType();
  /** (topic, partition) ↔ the store's numeric partition slot (the store knows no topics). */
  private readonly slotOf = new Map<string, number>();
  private readonly slotTopic: TopicPartition[] = [];
  private pendingDeadLetters: OutRecord[] = [];
  private recordsSinceTick = 0;
  private eventsSinceTick = new Map<string, number>();
  private subscription: Subscription | undefined;
  private drained: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private stopping = false;
  /** Offset of the record being handed to the sessionizer (closes it triggers are tagged with it). */
  private currentOffset = -1n;
  /** Closes and quiet re-scores → the offset of the record whose watermark produced them. */
  private readonly trigger = new WeakMap<object, bigint>();
  private readonly watermarks: PartitionWatermarks;

  constructor(
    private readonly source: RecordSource,
    private readonly sink: KafkaSink,
    private readonly options: ProcessorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.watermarks = new PartitionWatermarks({ allowedLatenessMs: options.store.session.allowedLatenessMs });
    this.checkpoint = new Checkpoint({
      source,
      sink,
      group: options.group,
      exactlyOnce: options.exactlyOnce,
      maxInFlight: options.maxInFlight,
      log: options.log,
      heldFrom: (topic, partition) => {
        const slot = this.slotOf.get(tpKey(topic, partition));
        return slot === undefined ? undefined : options.store.lowWatermark(slot);
      },
    });
  }

  /** Starts the stream stages, then the consumer. Resolves once the consumer runs. */
  async run(): Promise<void> {
    await this.sink.connect();
    const { store, tickMs, maxBatch } = this.options;
    this.drained = new Promise<void>((resolve, reject) => {
      this.subscription = this.input
        .pipe(
          journeySessions({ store, tickMs, maxBatch, closeOnComplete: false, watermarks: this.watermarks }),
          // closes and quiet re-scores are emitted while the record that moved the watermark is
          // handed in (a quiet update's own events are older)
          tap((o) => {
            if (o.kind === 'update' && isQuietRescore(o)) this.trigger.set(o, this.currentOffset);
            if (o.kind !== 'close') return;
            this.trigger.set(o, this.currentOffset);
            const tp = this.slotTopic[o.partition];
            if (tp !== undefined && o.firstOffset >= 0n && o.lastOffset >= 0n) this.checkpoint.closedSession(tp.topic, tp.partition, o.firstOffset, o.lastOffset);
          }),
          // A tick is also cut when it holds many outcomes, so one tick's outputs stay bounded.
          bufferTime(tickMs, null, maxBatch * 8),
          // The plan is taken when the tick is cut, before later records can move the store on:
          // it then covers exactly the records whose outcomes are in this tick or an earlier one.
          map((outcomes): Tick => {
            const plan = this.checkpoint.plan();
            const tick: Tick = { outcomes, deadLetters: this.pendingDeadLetters, plan, records: this.recordsSinceTick, events: this.eventsSinceTick };
            this.pendingDeadLetters = [];
            this.recordsSinceTick = 0;
            this.eventsSinceTick = new Map();
            return tick;
          }),
          // A tick that only took records in (their outcomes come in a later tick) is kept too:
          // dropping it lost their in-flight release (partitions ended up paused for good) and
          // their `processed` count.
          filter((t) => t.outcomes.length > 0 || t.deadLetters.length > 0 || t.plan.offsets.length > 0 || t.records > 0),
          concatMap((t) => this.processTick(t)),
        )
        .subscribe({ error: reject, complete: resolve });
    });
    this.drained.catch((err: Error) => {
      this.failed = err;
      this.options.log.error({ err }, 'the pipeline failed');
    });
    await this.source.run((records, ctx) => this.onBatch(records, ctx));
  }

  get activeSessions(): number {
    return this.options.store.size;
  }

  /** Rejects when the pipeline failed for good (e.g. outputs could not be produced). */
  get done(): Promise<void> {
    return this.drained;
  }

  /** Graceful stop: stop taking records, finish the ticks in flight (outputs + commits), disconnect. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.options.log;
    log.info('stopping: no more records taken; delivering and committing the ticks in flight');
    this.input.complete();
    await this.drained.catch(() => undefined);
    this.subscription?.unsubscribe();
    log.info('pipeline drained; leaving the consumer group');
    await this.source.stop();
    await this.sink.disconnect();
    log.info('disconnected from Kafka');
  }

  /**
   * A new assignment: reads the group's commit metadata, so records that are re-read below the
   * replay mark rebuild state without publishing their outputs again. Batches wait for it.
   */
  assign(assignment: { topic: string; partitions: number[] }[]): void {
    this.checkpoint.assign(assignment.map((a) => a.topic));
  }

  /** Partitions lost in a rebalance: their sessions are rebuilt by the new owner. */
  revoke(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const slot = this.slotOf.get(tpKey(tp.topic, tp.partition));
      if (slot !== undefined) {
        this.options.store.dropPartition(slot);
        this.watermarks.reset(slot);
      }
    }
    this.checkpoint.revoke(partitions);
  }

  private slot(topic: string, partition: number): number {
    const k = tpKey(topic, partition);
    let s = this.slotOf.get(k);
    if (s === undefined) {
      s = this.slotTopic.length;
      this.slotOf.set(k, s);
      this.slotTopic.push({ topic, partition });
    }
    return s;
  }

  private async onBatch(records: SourceRecord[], ctx: BatchContext): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.stopping) return;
    await this.checkpoint.ready;
    const { ingestion, metrics } = this.options;
    const first = records[0];
    if (!first) return;
    const slot = this.slot(first.topic, first.partition);
    // a batch is one partition: look its replay mark up once, not per record
    const replayUntil = this.checkpoint.replayMark(first.topic, first.partition);
    for (const r of records) {
      this.stats.records++;
      this.recordsSinceTick++;
      const replay = replayUntil !== undefined && r.offset < replayUntil;
      if (replay) this.stats.replayed++;
      this.checkpoint.receive(r.topic, r.partition, r.offset);
      const res = ingest(r, ingestion);
      if (res.kind === 'tombstone') {
        this.stats.tombstones++;
        metrics?.eventsTotal.inc({ topic: r.topic, outcome: 'tombstone' });
        continue;
      }
      if (res.kind === 'dead') {
        if (replay) {
          this.stats.dead++;
          this.stats.suppressed++;
        } else this.deadLetter(r, res.reason, res.message);
        continue;
      }
      this.stats.events++;
      this.eventsSinceTick.set(r.topic, (this.eventsSinceTick.get(r.topic) ?? 0) + 1);
      this.currentOffset = r.offset;
      this.input.next({ event: res.event, partition: slot, offset: r.offset, record: r });
    }
    this.checkpoint.admit(first.topic, first.partition, records.length);
    await ctx.heartbeat();
  }

  /** Counts an unusable record and queues its dead letter for the next tick's outputs. */
  private deadLetter(record: IngestRecord, reason: DlqReason, message: string): void {
    this.stats.dead++;
    this.options.metrics?.eventsTotal.inc({ topic: record.topic, outcome: EventOutcomes.dlq });
    const dl = this.toDeadLetter(record, reason, message, this.options.dlqTopic);
    if (dl) this.pendingDeadLetters.push(dl);
  }

  private toDeadLetter(record: IngestRecord, reason: DlqReason, message: string, topic: string | undefined): OutRecord | undefined {
    this.options.metrics?.dlqTotal.inc({ reason });
    if (!topic) {
      this.options.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason, message }, 'unusable record (no --dlq-topic configured, so it is only logged)');
      return undefined;
    }
    const m = buildDeadLetter(record, reason, message);
    return { topic, key: m.key ?? null, value: m.value ?? null, ...(m.headers ? { headers: m.headers } : {}) };
  }

  private encodeSignal(s: JourneySignal): Buffer | string {
    return this.options.outputFormat === 'json' ? JSON.stringify(s) : this.signalType.toBuffer(s);
  }

  private async processTick(tick: Tick): Promise<void> {
    const { metrics, log } = this.options;
    const views: SessionView[] = [];
    const finals: boolean[] = [];
    const replays: boolean[] = [];
    const out: OutRecord[] = [...tick.deadLetters];
    for (const o of tick.outcomes) {
      if (o.kind === 'update' || o.kind === 'close') {
        views.push(o);
        finals.push(o.kind === 'close');
        const tp = this.slotTopic[o.partition];
        // an update is a replay when its newest event was published before; a close or a quiet
        // re-score when the record that produced it was
        const offset = this.trigger.get(o) ?? o.lastOffset;
        replays.push(tp !== undefined && this.checkpoint.isReplay(tp.topic, tp.partition, offset));
        if (o.kind === 'close') metrics?.sessionsClosedTotal.inc();
      } else {
        const r = (o.envelope as ProcEnvelope).record;
        // duplicates and late events were handed in as events: they are not "processed"
        tick.events.set(r.topic, (tick.events.get(r.topic) ?? 1) - 1);
        if (o.kind === 'duplicate') {
          this.stats.duplicates++;
          metrics?.eventsTotal.inc({ topic: r.topic, outcome: EventOutcomes.duplicate });
        } else {
          // late: its session is already closed (or its time is before the watermark)
          this.stats.late++;
          metrics?.eventsTotal.inc({ topic: r.topic, outcome: EventOutcomes.late });
          const message = o.reason === 'closed' ? `event time ${o.envelope.event.timestamp} is behind the partition watermark ${o.watermark}: its session is closed` : 'the event time is not a usable timestamp';
          if (this.checkpoint.isReplay(r.topic, r.partition, r.offset)) this.stats.suppressed++;
          else {
            const dl = this.toDeadLetter(r, 'late_event', message, this.options.lateTopic ?? this.options.dlqTopic);
            if (dl) out.push(dl);
          }
        }
      }
    }
    for (const [topic, n] of tick.events) if (n > 0) metrics?.eventsTotal.inc({ topic, outcome: EventOutcomes.processed }, n);
    this.stats.processed += [...tick.events.values()].reduce((a, b) => a + b, 0);

    const scorer = this.options.scorer();
    const scores = views.length > 0 ? await scorer.score(views) : [];
    const emittedAt = this.now();
    const items = views.map((view, i) => {
      const score = scores[i] as SessionScore;
      const final = finals[i] as boolean;
      const signal: JourneySignal = {
        signalId: signalIdFor(view.sessionId, view.lastEventId, scorer.modelVersion, final, isQuietRescore(view) ? view.asOf : undefined),
        sessionId: view.sessionId,
        userId: view.userId,
        eventCount: view.eventCount,
        windowStart: view.windowStart,
        windowEnd: view.windowEnd,
        clusterId: score.clusterId,
        clusterLabel: score.clusterLabel,
        distance: score.distance,
        novel: score.novel,
        churnRisk: score.churnRisk,
        riskBand: score.riskBand,
        modelVersion: scorer.modelVersion,
        emittedAt,
        final,
      };
      return { view, score, signal, final, replay: replays[i] as boolean };
    });
    for (const it of items) {
      if (it.replay) this.stats.suppressed++;
      else out.push({ topic: this.options.signalsTopic, key: it.signal.userId ?? it.signal.sessionId, value: this.encodeSignal(it.signal) });
    }
    for (const hook of this.options.hooks ?? []) out.push(...(await hook.onScored(items)));
    for (const hook of this.options.hooks ?? []) await hook.flush?.();

    await this.checkpoint.commit(out, tick.plan, tick.records);
    if (tick.plan.offsets.length > 0) {
      this.stats.commits++;
      metrics?.commitsTotal.inc();
    }
    this.stats.ticks++;
    const published = items.filter((it) => !it.replay);
    this.stats.signals += published.length;
    const ackedAt = this.now();
    for (const it of published) {
      metrics?.signalsTotal.inc({ cluster: String(it.signal.clusterId) });
      // from the event time the signal describes (a quiet re-score: its checkpoint)
      metrics?.eventToSignalSeconds.observe(Math.max(0, (ackedAt - it.view.asOf) / 1000));
      this.options.onSignal?.(it.signal);
    }
    metrics?.sessionsActive.set(this.options.store.size);
    if (items.length > 0) log.debug({ signals: items.length, commits: tick.plan.offsets.length }, 'tick delivered');
  }
}
