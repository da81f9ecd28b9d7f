// The processor: Kafka records → ingestion (decode, map, validate; dead letters) → the
// sessionizer (event time, rolling windows, micro-batches) → the scorer (CNN embedding, nearest
// centroid, churn risk) → signals, alerts, late events → Kafka. When input offsets are committed
// is the checkpoint's to decide (checkpoint/checkpoint.ts): only after the outputs they produced
// were acknowledged, or atomically with them in exactly-once mode.
//
// Ticks are pipelined: a tick is cut as soon as fewer than `maxTicksInFlight` ticks are between
// their cut and their commit and the scorer is free (after a batch of records was taken in, when
// a tick was scored or delivered, or every tickMs; a tick is cut while the scorer is busy only
// once `maxBatch` records wait), and its scoring starts at once (in the scorer's worker
// threads), while earlier ticks are still being produced and committed. Under load a tick holds
// what arrived while the previous one was scored: one larger batch costs the workers less per
// view than small ones queued behind each other (measured in the same run at 3,000 and 6,000
// events/s: lower lag and p50 in 4 of 4 pairs). Ticks are delivered strictly in
// order (hooks, outputs, commit); ticks already scored when the previous delivery ends are
// delivered together, in one produce request and one commit of the latest plan. So ticks are
// short when the processor is idle (one fetch's worth of records: no fixed tick to wait for) and
// grow under load, where one delivery's round trips cover many of them.
import { type Logger } from 'pino';
import { Subject, type Subscription, tap } from 'rxjs';
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type IngestRecord } from '../contracts/ingest-record.ts';
import { type ClickEvent, type JourneySignal } from '../contracts/records.ts';
import { type SessionScore, type SessionScorer, signalIdFor } from '../contracts/scorer.ts';
import { Checkpoint } from './checkpoint/checkpoint.ts';
import { type CommitPlan, mergePlans } from './checkpoint/commit-planner.ts';
import { type EmitMode, SignalEmission } from './emission.ts';
import { type TopicPartition, tpKey } from './checkpoint/topic-partition.ts';
import { ingest, type Ingestion } from '../consumers/ingest.ts';
import { type BatchContext, type RecordSource, type SourceRecord } from '../consumers/source.ts';
import { EventOutcomes, type Metrics } from '../metrics.ts';
import { journeySignalType } from '../contracts/schemas.ts';
import { buildDeadLetter } from '../sinks/dead-letter.ts';
import { DLQ_REDACTED_HEADER, denyFields, pseudonymousSignal } from '../sinks/privacy.ts';
import { type OutputSink, type OutRecord } from '../sinks/kafka-sink.ts';
import { type ClickEnvelope, type SessionOutcome } from '../streams/outcomes.ts';
import { journeySessions } from '../streams/journey-sessions.ts';
import { PartitionWatermarks } from '../streams/watermark.ts';
import { type SessionStore } from '../streams/session-store.ts';
import { type ModelFit } from './model-fit.ts';
import { type CloseReason, isQuietRescore, type SessionView } from '../journey/session-view.ts';

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
  /** Encodes a signal for the signals topic (e.g. Confluent wire format); default: outputFormat with schemas/journey-signal.avsc. */
  encodeSignal?: (signal: JourneySignal) => Buffer | string;
  /**
   * Called with each batch before ingestion; false means "not taken now" (e.g. the schema registry
   * is down): the source fetches the batch again later, nothing of it is counted or committed.
   */
  beforeBatch?: (records: SourceRecord[]) => Promise<boolean>;
  group: string;
  exactlyOnce: boolean;
  tickMs: number;
  maxBatch: number;
  /** Ticks cut but not yet committed, at most (default 4): scoring overlaps delivery up to this depth. */
  maxTicksInFlight?: number;
  /**
   * Ticks being scored at once, at most (default 1): while the scorer is busy, records gather
   * into the next tick (cut when the scorer frees up, or once `maxBatch` records wait), so ticks
   * grow with the load instead of queueing small batches in the scoring workers.
   */
  maxTicksScoring?: number;
  /** Which scored updates are published (default 'every'; see emission.ts). */
  emit?: EmitMode;
  /** With emit 'change': the risk move that is news on its own (default 0.05). */
  emitRiskStep?: number;
  /** A partition with no event for this long closes its open sessions (streams/sessionize.ts); off when undefined. */
  idleTimeoutMs?: number;
  /** Records in flight above which partitions are paused. */
  maxInFlight: number;
  log: Logger;
  metrics?: Metrics;
  hooks?: TickHook[];
  /** Counts unknown event types and novel signals, and says when the model does not fit the data. */
  fit?: ModelFit;
  /** Pseudonymous ids on the signals topic (sinks/privacy.ts); hooks and onSignal see the real ones. */
  pseudonym?: (id: string) => string;
  /** Dotted paths removed from dead-letter copies (sinks/privacy.ts). */
  dlqDenyFields?: string[][];
  /** Called for every signal after it was acknowledged (demo console, tests). */
  onSignal?: (signal: JourneySignal) => void;
  /** Called for every event handed to the sessionizer (the web console shows the last one's type and page). */
  onEvent?: (event: ClickEvent) => void;
  now?: () => number;
}

export interface ProcessorStats {
  records: number;
  /** Records that decoded to an event (then: processed, duplicate or late). */
  events: number;
  /** Events that updated a session. */
  processed: number;
  tombstones: number;
  /** Events without analytics consent (ingestion.consent): counted, never sessionized nor dead-lettered. */
  noConsent: number;
  dead: number;
  late: number;
  duplicates: number;
  signals: number;
  /** Scored updates not published because nothing a reader acts on changed (emit 'change'). */
  unchanged: number;
  /** Outputs not published again while re-reading records that were published before a restart. */
  suppressed: number;
  /** Records re-read below the replay mark (rebuilding sessions after a restart or rebalance). */
  replayed: number;
  ticks: number;
  /** Deliveries: produce + commit round trips (one covers every tick scored by then). */
  deliveries: number;
  /** Records whose ticks were delivered (outputs acknowledged, offsets committed as the plan allows). */
  delivered: number;
  commits: number;
}

/**
 * The trigger of outputs no record's hand-in produced: closes by the idle timer, and evictions
 * (the evicted session may be another partition's). They are never taken for replays of
 * something published before a restart: publishing again is at-least-once (same signal ids),
 * suppressing could lose a final.
 */
const NOT_A_RECORD = 0x7fff_ffff_ffff_ffffn;

interface ProcEnvelope extends ClickEnvelope {
  record: SourceRecord;
}

/** A tick as cut: what it scores and publishes, and the commit it allows once delivered. */
interface Tick {
  views: SessionView[];
  finals: boolean[];
  replays: boolean[];
  /** Dead letters and late events of this tick. */
  out: OutRecord[];
  plan: CommitPlan;
  records: number;
  scorer: SessionScorer;
  /** Scores of `views`, in order; started when the tick is cut. */
  scores: Promise<SessionScore[]>;
  settled: boolean;
}

type ScoredItem = { view: SessionView; score: SessionScore; signal: JourneySignal; final: boolean; replay: boolean };

export class Processor {
  readonly stats: ProcessorStats = { records: 0, events: 0, processed: 0, tombstones: 0, noConsent: 0, dead: 0, late: 0, duplicates: 0, signals: 0, unchanged: 0, suppressed: 0, replayed: 0, ticks: 0, deliveries: 0, delivered: 0, commits: 0 };
  private readonly checkpoint: Checkpoint;
  private readonly input = new Subject<ProcEnvelope>();
  /** Asks the micro-batcher for its pending updates when a tick is cut. */
  private readonly flushRequests = new Subject<void>();
  private readonly now: () => number;
  private readonly signalType = journeySignalType();
  private readonly emission: SignalEmission;
  private readonly maxTicksInFlight: number;
  private readonly maxTicksScoring: number;
  /** Ticks whose scoring has not settled yet. */
  private scoring = 0;
  /** (topic, partition) ↔ the store's numeric partition slot (the store knows no topics). */
  private readonly slotOf = new Map<string, number>();
  private readonly slotTopic: TopicPartition[] = [];
  private pendingOutcomes: SessionOutcome[] = [];
  private pendingDeadLetters: OutRecord[] = [];
  private recordsSinceTick = 0;
  private eventsSinceTick = new Map<string, number>();
  /** Ticks cut and not yet delivered, oldest first. */
  private readonly ticks: Tick[] = [];
  private delivering = false;
  private inputDone = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private subscription: Subscription | undefined;
  private drained: Promise<void> = Promise.resolve();
  private settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failed: Error | undefined;
  private stopping = false;
  /** Offset of the record being handed to the sessionizer (closes it triggers are tagged with it). */
  private currentOffset = NOT_A_RECORD;
  /** Closes and quiet re-scores → the offset of the record whose watermark produced them. */
  private readonly trigger = new WeakMap<object, bigint>();
  private readonly watermarks: PartitionWatermarks;

  constructor(
    private readonly source: RecordSource,
    private readonly sink: OutputSink,
    private readonly options: ProcessorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxTicksInFlight = Math.max(1, options.maxTicksInFlight ?? 4);
    this.maxTicksScoring = Math.max(1, options.maxTicksScoring ?? 1);
    this.emission = new SignalEmission({ mode: options.emit ?? 'every', ...(options.emitRiskStep !== undefined ? { riskStep: options.emitRiskStep } : {}) });
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
    const { store, tickMs, maxBatch, idleTimeoutMs } = this.options;
    this.drained = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.drained.catch((err: Error) => {
      this.options.log.error({ err }, 'the pipeline failed');
    });
    this.subscription = this.input
      .pipe(
        // a partition paused for backpressure is not idle
        journeySessions({ store, tickMs, maxBatch, idleTimeoutMs, idleAllowed: () => !this.checkpoint.isPaused, closeOnComplete: false, watermarks: this.watermarks, flush: this.flushRequests }),
        // closes and quiet re-scores are emitted while the record that moved the watermark is
        // handed in (a quiet update's own events are older)
        tap((o) => {
          if (o.kind === 'update' && isQuietRescore(o)) this.trigger.set(o, this.currentOffset);
          if (o.kind !== 'close') return;
          this.trigger.set(o, o.reason === 'evicted' ? NOT_A_RECORD : this.currentOffset);
          const tp = this.slotTopic[o.partition];
          if (tp !== undefined && o.firstOffset >= 0n && o.lastOffset >= 0n) this.checkpoint.closedSession(tp.topic, tp.partition, o.firstOffset, o.lastOffset);
        }),
      )
      .subscribe({
        next: (o) => {
          this.pendingOutcomes.push(o);
        },
        error: (err: Error) => this.fail(err),
        complete: () => {
          this.inputDone = true;
          this.cut();
          this.settleIfDrained();
        },
      });
    // closes and quiet re-scores found by the sessionizer's timers, and records whose outcomes
    // are all pending: cut at least every tickMs
    this.tickTimer = setInterval(() => this.maybeCut(), tickMs);
    this.tickTimer.unref();
    await this.source.run((records, ctx) => this.onBatch(records, ctx));
  }

  get activeSessions(): number {
    return this.options.store.size;
  }

  /** Rejects when the pipeline failed for good (e.g. outputs could not be produced). */
  get done(): Promise<void> {
    return this.drained;
  }

  /** Ticks cut and not yet delivered. */
  get ticksInFlight(): number {
    return this.ticks.length;
  }

  /** Graceful stop: stop taking records, finish the ticks in flight (outputs + commits), disconnect. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.options.log;
    log.info('stopping: no more records taken; delivering and committing the ticks in flight');
    this.input.complete();
    await this.drained.catch(() => undefined);
    clearInterval(this.tickTimer);
    this.subscription?.unsubscribe();
    if (this.stats.events > 0) this.options.fit?.report();
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
        this.emission.dropPartition(slot);
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

  private async onBatch(records: SourceRecord[], ctx: BatchContext): Promise<void | false> {
    if (this.failed) throw this.failed;
    if (this.stopping) return;
    if (this.options.beforeBatch && !(await this.options.beforeBatch(records))) return false;
    await this.checkpoint.ready;
    const { ingestion, metrics } = this.options;
    const first = records[0];
    if (!first) return;
    const slot = this.slot(first.topic, first.partition);
    // a batch is one partition: look its replay mark up once, not per record
    const replayUntil = this.checkpoint.replayMark(first.topic, first.partition);
    // the commit planner's highest offset and the tick's event count: updated once a batch (no
    // tick is cut while a batch is handed in)
    let highest = first.offset;
    let events = 0;
    for (const r of records) {
      this.stats.records++;
      this.recordsSinceTick++;
      const replay = replayUntil !== undefined && r.offset < replayUntil;
      if (replay) this.stats.replayed++;
      if (r.offset > highest) highest = r.offset;
      const res = ingest(r, ingestion);
      if (res.kind === 'tombstone') {
        this.stats.tombstones++;
        metrics?.eventsTotal.inc({ topic: r.topic, outcome: 'tombstone' });
        continue;
      }
      if (res.kind === 'no_consent') {
        this.stats.noConsent++;
        metrics?.eventsTotal.inc({ topic: r.topic, outcome: EventOutcomes.noConsent });
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
      this.options.fit?.observeEvent(r.topic, res.event.type);
      events++;
      this.currentOffset = r.offset;
      this.options.onEvent?.(res.event);
      this.input.next({ event: res.event, partition: slot, offset: r.offset, record: r });
      this.currentOffset = NOT_A_RECORD;
    }
    if (events > 0) this.eventsSinceTick.set(first.topic, (this.eventsSinceTick.get(first.topic) ?? 0) + events);
    this.checkpoint.receive(first.topic, first.partition, highest);
    this.checkpoint.admit(first.topic, first.partition, records.length);
    this.maybeCut();
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
      // the reason's message can quote the record's values: personal data stays out of info+ logs
      this.options.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason }, 'unusable record (no --dlq-topic configured, so it is only logged)');
      this.options.log.debug({ topic: record.topic, partition: record.partition, offset: record.offset, reason, message }, 'unusable record: detail');
      return undefined;
    }
    const m = buildDeadLetter(record, reason, message);
    const denied = denyFields(record.value, this.options.dlqDenyFields ?? []);
    if (denied) return { topic, key: m.key ?? null, value: denied.value, headers: { ...m.headers, [DLQ_REDACTED_HEADER]: denied.removed } };
    return { topic, key: m.key ?? null, value: m.value ?? null, ...(m.headers ? { headers: m.headers } : {}) };
  }

  private encodeSignal(s: JourneySignal): Buffer | string {
    if (this.options.encodeSignal) return this.options.encodeSignal(s);
    return this.options.outputFormat === 'json' ? JSON.stringify(s) : this.signalType.toBuffer(s);
  }

  /**
   * Cuts a tick when the pipeline has room and anything is pending. While the scorer is busy
   * the tick waits for it (its updates are scored in one larger batch, which costs less per
   * view than several small ones queued behind each other), unless a batch's worth of records
   * is waiting already.
   */
  private maybeCut(): void {
    if (this.failed || this.inputDone || this.ticks.length >= this.maxTicksInFlight) return;
    if (this.recordsSinceTick === 0 && this.pendingOutcomes.length === 0 && this.pendingDeadLetters.length === 0) return;
    if (this.scoring >= this.maxTicksScoring && this.recordsSinceTick < this.options.maxBatch) return;
    this.cut();
  }

  /**
   * Cuts a tick: the micro-batcher's pending updates are flushed into it, and its commit plan is
   * taken now, before later records can move the store on: it covers exactly the records whose
   * outcomes are in this tick or an earlier one. Its scoring starts at once.
   */
  private cut(): void {
    if (this.failed) return;
    if (!this.inputDone) this.flushRequests.next();
    const plan = this.checkpoint.plan();
    const outcomes = this.pendingOutcomes;
    const records = this.recordsSinceTick;
    const events = this.eventsSinceTick;
    const out = this.pendingDeadLetters;
    this.pendingOutcomes = [];
    this.pendingDeadLetters = [];
    this.recordsSinceTick = 0;
    this.eventsSinceTick = new Map();
    // A tick that only took records in (their outcomes come in a later tick) is kept too:
    // dropping it lost their in-flight release (partitions ended up paused for good).
    if (outcomes.length === 0 && out.length === 0 && plan.offsets.length === 0 && records === 0) return;
    const { metrics } = this.options;
    const views: SessionView[] = [];
    const finals: boolean[] = [];
    const replays: boolean[] = [];
    for (const o of outcomes) {
      if (o.kind === 'update' || o.kind === 'close') {
        views.push(o);
        finals.push(o.kind === 'close');
        const tp = this.slotTopic[o.partition];
        // an update is a replay when its newest event was published before; a close or a quiet
        // re-score when the record that produced it was
        const offset = this.trigger.get(o) ?? o.lastOffset;
        replays.push(tp !== undefined && this.checkpoint.isReplay(tp.topic, tp.partition, offset));
        if (o.kind === 'close') metrics?.sessionsClosedTotal.inc();
        if (o.kind === 'close' && o.reason === 'evicted') metrics?.sessionsEvictedTotal.inc();
      } else {
        const r = (o.envelope as ProcEnvelope).record;
        // duplicates and late events were handed in as events: they are not "processed"
        events.set(r.topic, (events.get(r.topic) ?? 1) - 1);
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
    for (const [topic, n] of events) if (n > 0) metrics?.eventsTotal.inc({ topic, outcome: EventOutcomes.processed }, n);
    for (const n of events.values()) this.stats.processed += n;
    const scorer = this.options.scorer();
    const tick: Tick = { views, finals, replays, out, plan, records, scorer, scores: Promise.resolve([]), settled: views.length === 0 };
    if (views.length > 0) {
      this.scoring++;
      tick.scores = scorer.score(views);
      // a failure is raised by the delivery of this tick, in order
      tick.scores.then(
        () => this.scored(tick),
        () => this.scored(tick),
      );
    }
    this.ticks.push(tick);
    void this.deliverAll();
  }

  private scored(tick: Tick): void {
    tick.settled = true;
    this.scoring--;
    // what gathered while this tick was scored goes to the scorer now
    this.maybeCut();
    // the head may be waiting for exactly this tick
    void this.deliverAll();
  }

  /** Delivers ticks in order while there are any; one delivery takes every tick already scored. */
  private async deliverAll(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.ticks.length > 0 && !this.failed) {
        if (!this.ticks[0]!.settled) break;
        let n = 1;
        while (n < this.ticks.length && this.ticks[n]!.settled) n++;
        const batch = this.ticks.slice(0, n);
        await this.deliver(batch);
        this.ticks.splice(0, n);
        this.maybeCut();
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.delivering = false;
    }
    this.settleIfDrained();
  }

  /** Hooks, outputs and one commit for consecutive ticks, in order. */
  private async deliver(ticks: Tick[]): Promise<void> {
    const { metrics, log } = this.options;
    const out: OutRecord[] = [];
    const published: ScoredItem[] = [];
    let records = 0;
    let scoredCount = 0;
    for (const tick of ticks) {
      const scores = await tick.scores;
      const items = this.signals(tick, scores);
      out.push(...tick.out);
      for (const it of items) {
        const emit = this.emission.observe(it.view.partition, it.view.sessionId, it.score, it.final);
        if (it.replay) this.stats.suppressed++;
        else if (!emit) this.stats.unchanged++;
        else {
          const pub = this.options.pseudonym ? pseudonymousSignal(it.signal, this.options.pseudonym) : it.signal;
          out.push({ topic: this.options.signalsTopic, key: pub.userId ?? pub.sessionId, value: this.encodeSignal(pub) });
          published.push(it);
        }
      }
      for (const hook of this.options.hooks ?? []) out.push(...(await hook.onScored(items)));
      records += tick.records;
      scoredCount += items.length;
    }
    for (const hook of this.options.hooks ?? []) await hook.flush?.();

    const plan = mergePlans(ticks.map((t) => t.plan));
    await this.checkpoint.commit(out, plan, records, () => {
      // acknowledged by the broker (exactly-once: committed with the offsets)
      const ackedAt = this.now();
      // counted per cluster once a delivery: a labelled inc costs a label lookup each time
      const perCluster = new Map<number, number>();
      for (const it of published) {
        perCluster.set(it.signal.clusterId, (perCluster.get(it.signal.clusterId) ?? 0) + 1);
        this.options.fit?.observeSignal(it.signal.novel);
        // from the event time the signal describes (a quiet re-score: its checkpoint)
        metrics?.eventToSignalSeconds.observe(Math.max(0, (ackedAt - it.view.asOf) / 1000));
        this.options.onSignal?.(it.signal);
      }
      if (metrics) for (const [cluster, n] of perCluster) metrics.signalsTotal.inc({ cluster: String(cluster) }, n);
    });
    if (plan.offsets.length > 0) {
      this.stats.commits++;
      metrics?.commitsTotal.inc();
    }
    this.stats.ticks += ticks.length;
    this.stats.deliveries++;
    this.stats.delivered += records;
    this.stats.signals += published.length;
    metrics?.sessionsActive.set(this.options.store.size);
    this.options.fit?.maybeReport();
    if (scoredCount > 0) log.debug({ ticks: ticks.length, scored: scoredCount, signals: published.length, commits: plan.offsets.length }, 'ticks delivered');
  }

  /** The tick's signals, one per scored view. */
  private signals(tick: Tick, scores: SessionScore[]): ScoredItem[] {
    const { scorer } = tick;
    const emittedAt = this.now();
    return tick.views.map((view, i) => {
      const score = scores[i] as SessionScore;
      const final = tick.finals[i] as boolean;
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
        closeReason: final ? ((view as SessionView & { reason?: CloseReason }).reason ?? null) : null,
      };
      return { view, score, signal, final, replay: tick.replays[i] as boolean };
    });
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    clearInterval(this.tickTimer);
    this.settle?.reject(err);
  }

  private settleIfDrained(): void {
    if (this.inputDone && this.ticks.length === 0 && !this.delivering && !this.failed) this.settle?.resolve();
  }
}
