// The processor: records from the source → sessions → signals → sink, committing input offsets
// only after the outputs they produced were acknowledged (at-least-once).
//
// This is the first vertical slice: JSON input, per-session counters, one signal per changed
// session per batch. The ingestion, sessionization, model and sink issues deepen each stage
// without changing this shape.
import { createHash } from 'node:crypto';
import { type Logger } from 'pino';
import { type BatchContext, type RecordSource, type SourceRecord } from './consumers/source.ts';
import { type KafkaSink, type OutRecord } from './sinks/kafka-sink.ts';

export interface SliceSignal {
  signalId: string;
  sessionId: string;
  userId: string | null;
  eventCount: number;
  windowStart: number;
  windowEnd: number;
  modelVersion: string;
  emittedAt: number;
}

interface SessionState {
  userId: string | null;
  count: number;
  start: number;
  end: number;
  lastEventId: string;
}

export interface ProcessorOptions {
  signalsTopic: string;
  modelVersion: string;
  log: Logger;
  /** Called for every signal after it was acknowledged by the broker (demo console, tests). */
  onSignal?: (signal: SliceSignal) => void;
  now?: () => number;
}

export interface ProcessorStats {
  records: number;
  events: number;
  invalid: number;
  signals: number;
}

export function signalIdFor(sessionId: string, lastEventId: string, modelVersion: string): string {
  return createHash('sha256').update(`${sessionId}\u0000${lastEventId}\u0000${modelVersion}`).digest('hex').slice(0, 32);
}

export class Processor {
  readonly stats: ProcessorStats = { records: 0, events: 0, invalid: 0, signals: 0 };
  private readonly sessions = new Map<string, SessionState>();
  private readonly now: () => number;

  constructor(
    private readonly source: RecordSource,
    private readonly sink: KafkaSink,
    private readonly options: ProcessorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async run(): Promise<void> {
    await this.sink.connect();
    await this.source.run((records, ctx) => this.onBatch(records, ctx));
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await this.sink.disconnect();
  }

  private async onBatch(records: SourceRecord[], ctx: BatchContext): Promise<void> {
    const changed = new Set<string>();
    for (const r of records) {
      this.stats.records++;
      const ev = parseSliceEvent(r.value);
      if (!ev) {
        this.stats.invalid++;
        this.options.log.warn({ topic: r.topic, partition: r.partition, offset: r.offset }, 'skipping a record that is not a JSON click event');
        continue;
      }
      this.stats.events++;
      const s = this.sessions.get(ev.sessionId);
      if (s) {
        s.count++;
        s.start = Math.min(s.start, ev.timestamp);
        if (ev.timestamp >= s.end) {
          s.end = ev.timestamp;
          s.lastEventId = ev.eventId;
        }
      } else {
        this.sessions.set(ev.sessionId, { userId: ev.userId, count: 1, start: ev.timestamp, end: ev.timestamp, lastEventId: ev.eventId });
      }
      changed.add(ev.sessionId);
    }
    if (!ctx.isRunning()) return;
    const emittedAt = this.now();
    const signals: SliceSignal[] = [...changed].map((sessionId) => {
      const s = this.sessions.get(sessionId) as SessionState;
      return {
        signalId: signalIdFor(sessionId, s.lastEventId, this.options.modelVersion),
        sessionId,
        userId: s.userId,
        eventCount: s.count,
        windowStart: s.start,
        windowEnd: s.end,
        modelVersion: this.options.modelVersion,
        emittedAt,
      };
    });
    const out: OutRecord[] = signals.map((sig) => ({ topic: this.options.signalsTopic, key: sig.userId ?? sig.sessionId, value: JSON.stringify(sig) }));
    await this.sink.send(out);
    await ctx.heartbeat();
    const last = records[records.length - 1] as SourceRecord;
    await this.source.commit([{ topic: last.topic, partition: last.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
    this.stats.signals += signals.length;
    for (const sig of signals) this.options.onSignal?.(sig);
  }
}

interface SliceEvent {
  eventId: string;
  sessionId: string;
  userId: string | null;
  timestamp: number;
}

function parseSliceEvent(value: Buffer | null): SliceEvent | undefined {
  if (!value || value.length === 0) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null) return undefined;
  const o = obj as Record<string, unknown>;
  if (typeof o.sessionId !== 'string' || typeof o.eventId !== 'string' || typeof o.timestamp !== 'number') return undefined;
  return { eventId: o.eventId, sessionId: o.sessionId, userId: typeof o.userId === 'string' ? o.userId : null, timestamp: o.timestamp };
}
