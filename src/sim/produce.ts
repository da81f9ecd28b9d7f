// `simulate --brokers`: simulated traffic to Kafka. Factored as a function so the demo can
// run it in-process and stop it with an AbortSignal.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ErrorCodes, UserError } from '../errors.ts';
import { type SimItem, type SimulationOptions, Simulation, generate, trafficAt } from './generator.ts';

/** The part of a kafkajs Producer used here; inject one to reuse a configured client (TLS, SASL) or in tests. */
export interface SimProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: { key: string; value: string }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

export interface ProduceProgress {
  events: number;
  /** Sessions whose first event was sent. */
  sessions: number;
  elapsedMs: number;
  /** Events per second since the start. */
  rate: number;
  /** Wall clock minus the event time of the last event sent (ms); about 0 in realtime pacing. */
  lagMs: number;
  /** Realtime: events sent at once at the start (the warm-up backlog and catch-up), included in `events`. */
  backlogEvents: number;
}

export interface ProduceSimulatedOptions extends SimulationOptions {
  /** Bootstrap brokers, host:port. Ignored when `producer` is given. */
  brokers?: string[];
  topic: string;
  /** Target events per second; never exceeded (beyond the warm-up backlog). */
  rate: number;
  /**
   * 'realtime' (the default without `start`): event time follows the wall clock, so consumers that reject
   * future timestamps accept every event; new users arrive at an intensity calibrated to
   * `rate`. The simulation starts `warmupMs` in the past so traffic is at its steady level from
   * the first second: like a consumer joining a live topic, sessions already under way are seen
   * from their next event on, except the last `backlogMs`, which is sent at once.
   * 'replay' (the default when `start` is given): events carry simulated time from `start`
   * (default 2026-01-05) and go out as fast as `rate` allows, so simulated time runs faster than
   * the clock; keep `start` far enough in the past for consumers that reject future timestamps.
   * The same seed gives the same stream (tests, benchmarks, replays).
   */
  pacing?: 'realtime' | 'replay';
  /** Realtime: how far back the simulation starts. Default 10 min. */
  warmupMs?: number;
  /** Realtime: events of the warm-up younger than this are sent at once; older ones are skipped. Default 30 s. */
  backlogMs?: number;
  /** Stop after this much wall-clock time. */
  durationMs?: number;
  /** Stop after this many sessions (realtime: once they are complete; no new ones start). */
  sessions?: number;
  /** Stop (after the batch in flight is acknowledged) when aborted. */
  signal?: AbortSignal;
  onProgress?: (p: ProduceProgress) => void;
  producer?: SimProducer;
  clientId?: string;
  /** How often a batch is sent. Default 100 ms. */
  tickMs?: number;
}

export interface ProduceResult extends ProduceProgress {
  /** Why it stopped: the requested sessions were sent, the duration passed, or the signal fired. */
  reason: 'done' | 'duration' | 'aborted';
}

/** Largest batch sent while catching up on the warm-up backlog. */
const BACKLOG_BATCH = 5000;

/**
 * Produces simulated ClickEvents as JSON, keyed by sessionId (a session stays on one
 * partition), in event-time order.
 */
export async function produceSimulated(options: ProduceSimulatedOptions): Promise<ProduceResult> {
  const { topic, rate, signal, onProgress } = options;
  if (!topic) throw new UserError(ErrorCodes.CONFIG_INVALID, '--topic is required to produce to Kafka.', { exitCode: 2 });
  if (!(rate > 0)) throw new UserError(ErrorCodes.CONFIG_INVALID, `--rate must be a positive number of events per second, got ${rate}.`, { exitCode: 2 });
  const pacing = options.pacing ?? (options.start === undefined ? 'realtime' : 'replay');
  const tickMs = options.tickMs ?? 100;
  const t0 = Date.now();
  let source: Iterator<SimItem>;
  let skipBefore = -Infinity;
  let realtimeSim: Simulation | undefined;
  if (pacing === 'realtime') {
    if (options.start !== undefined) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, "start applies to pacing 'replay'; realtime traffic starts warmupMs before now.", { exitCode: 2 });
    }
    if (options.users !== undefined) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, '--users applies to files and --replay; live traffic has users arriving at a rate set by --rate.', { exitCode: 2 });
    }
    const warmupMs = options.warmupMs ?? 10 * 60_000;
    const start = t0 - warmupMs;
    skipBefore = t0 - Math.min(warmupMs, options.backlogMs ?? 30_000);
    const sim = new Simulation({ ...options, sessions: undefined, start, usersPerHour: options.usersPerHour ?? calibrateUsersPerHour(options, rate, t0, warmupMs) });
    source = sim.events();
    realtimeSim = sim;
  } else {
    const sim = new Simulation(options);
    source = sim.events();
  }

  const producer = options.producer ?? createProducer(options);
  let sent = 0;
  let sentLive = 0;
  let liveStartedAt: number | undefined;
  let sessions = 0;
  let open = 0;
  let lastEventTime: number | undefined;
  const maxSessions = options.sessions;
  // Realtime sessions beyond `sessions` are not started; their later events are dropped too.
  const skipped = new Set<string>();
  const counted = new Set<string>();
  const control = new RateControl(rate);
  const progress = (): ProduceProgress => {
    const elapsedMs = Date.now() - t0;
    return {
      events: sent,
      sessions,
      elapsedMs,
      rate: elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0,
      lagMs: lastEventTime === undefined ? 0 : Date.now() - lastEventTime,
      backlogEvents: sent - sentLive,
    };
  };

  try {
    await producer.connect();
  } catch (err) {
    throw new UserError(
      ErrorCodes.BROKER_UNREACHABLE,
      `cannot connect to Kafka at ${(options.brokers ?? []).join(',') || '(injected producer)'}: ${(err as Error).message}. Check --brokers, or start a local broker with \`journeylens kafka start\`.`,
      { cause: err },
    );
  }
  let reason: ProduceResult['reason'] = 'done';
  let pending: SimItem | undefined;
  let exhausted = false;
  const peek = (): SimItem | undefined => {
    while (pending === undefined && !exhausted) {
      const next = source.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const item = next.value;
      if (item.event.timestamp < skipBefore) continue;
      if (pacing === 'realtime' && maxSessions !== undefined) {
        if ((item.step === 0 && sessions >= maxSessions) || (item.step > 0 && !counted.has(item.event.sessionId))) skipped.add(item.event.sessionId);
        if (skipped.has(item.event.sessionId)) {
          if (item.last) skipped.delete(item.event.sessionId);
          continue;
        }
      }
      pending = item;
    }
    return pending;
  };
  try {
    for (;;) {
      if (signal?.aborted) {
        reason = 'aborted';
        break;
      }
      const now = Date.now();
      if (options.durationMs !== undefined && now - t0 >= options.durationMs) {
        reason = 'duration';
        break;
      }
      if (maxSessions !== undefined && sessions >= maxSessions && open === 0) break;
      const messages: { key: string; value: string }[] = [];
      // Until realtime traffic has caught up with the clock (the warm-up backlog and whatever
      // fell due meanwhile), events go out at once; after that only when due and within the rate.
      for (let item = peek(); item !== undefined; item = peek()) {
        const ts = item.event.timestamp;
        if (pacing === 'realtime' && ts > now) {
          liveStartedAt ??= now;
          break;
        }
        if (pacing === 'realtime' && liveStartedAt === undefined) {
          if (messages.length >= BACKLOG_BATCH) break;
        } else {
          liveStartedAt ??= now;
          // Never ahead of rate × elapsed (+1 to start), and after a stall at most one second's worth at once.
          const budget = Math.min(Math.floor((rate * (now - liveStartedAt)) / 1000) + 1 - sentLive, Math.ceil(rate));
          if (messages.length >= budget) break;
          sentLive++;
        }
        pending = undefined;
        // Sessions cut by the warm-up (first event skipped) are sent but not counted.
        if (item.step === 0) {
          sessions++;
          open++;
          counted.add(item.event.sessionId);
        }
        if (item.last && counted.delete(item.event.sessionId)) open--;
        lastEventTime = ts;
        messages.push({ key: item.event.sessionId, value: JSON.stringify(item.event) });
        if (maxSessions !== undefined && sessions >= maxSessions && open === 0) break;
      }
      if (messages.length > 0) {
        try {
          await producer.send({ topic, messages });
        } catch (err) {
          throw new UserError(ErrorCodes.BROKER_UNREACHABLE, `producing to topic ${topic} failed after retries: ${(err as Error).message}.`, { cause: err });
        }
        sent += messages.length;
        onProgress?.(progress());
      }
      if (realtimeSim && liveStartedAt !== undefined && options.usersPerHour === undefined) {
        control.update(realtimeSim, Date.now(), sentLive, pending !== undefined && pending.event.timestamp <= Date.now() ? Date.now() - pending.event.timestamp : 0);
      }
      if (messages.length > 0) {
        if (messages.length >= BACKLOG_BATCH) continue;
      }
      if (exhausted && pending === undefined) break;
      try {
        await sleep(tickMs, undefined, signal ? { signal } : undefined);
      } catch {
        // aborted while waiting: the loop head reports it
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { ...progress(), reason };
}

/**
 * New users per peak hour so that, `warmupMs` after the start and at the current hour of the
 * daily rhythm, traffic is about `rate` events/s: the rate at that moment is arrivals × the
 * mean number of a session's events that fall within `warmupMs` of its start.
 */
export function calibrateUsersPerHour(options: SimulationOptions, rate: number, now: number, warmupMs: number): number {
  const sample = 2000;
  const starts = new Map<string, number>();
  let early = 0;
  for (const { event, step } of generate({ seed: options.seed, mix: options.mix, stability: options.stability, sessions: sample, users: sample })) {
    if (step === 0) starts.set(event.sessionId, event.timestamp);
    if (event.timestamp - (starts.get(event.sessionId) ?? event.timestamp) <= warmupMs) early++;
  }
  return (rate * 3600) / (early / sample) / Math.max(0.05, trafficAt(now));
}

function createProducer(options: ProduceSimulatedOptions): SimProducer {
  if (!options.brokers || options.brokers.length === 0) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--brokers is required to produce to Kafka (host:port[,host:port...]).', { exitCode: 2 });
  }
  const kafka = new Kafka({
    clientId: options.clientId ?? 'journeylens-simulate',
    brokers: options.brokers,
    // Failures surface as errors from connect/send; kafkajs's own log lines would only repeat
    // transient ones (e.g. leader election on an auto-created topic) in the middle of the output.
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
  // The Java-compatible partitioner, so keys land where Java/other clients would put them.
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
}

/**
 * Keeps realtime traffic at the target rate by steering the arrival of new users. Little's
 * law gives the first guess, but sessions last minutes and returning users come back hours
 * later, so the rate drifts; a slow multiplicative correction holds it (and keeps event
 * time from lagging the clock when the rate cap would otherwise hold events back).
 */
export class RateControl {
  private readonly history: { t: number; sent: number }[] = [];
  private lastUpdate = 0;

  constructor(private readonly target: number) {}

  update(sim: { usersPerHour: number }, now: number, sentLive: number, lagMs: number): void {
    this.history.push({ t: now, sent: sentLive });
    while (this.history.length > 1 && now - this.history[0]!.t > 5000) this.history.shift();
    if (now - this.lastUpdate < 1000) return;
    this.lastUpdate = now;
    const oldest = this.history[0]!;
    if (now - oldest.t < 4000) return;
    const measured = ((sentLive - oldest.sent) * 1000) / (now - oldest.t);
    // Held back by the cap means too many arrivals, whatever the measured rate.
    const factor = lagMs > 1000 ? 0.95 : Math.min(1.05, Math.max(0.95, (this.target / Math.max(1, measured)) ** 0.25));
    sim.usersPerHour = sim.usersPerHour * factor;
  }
}
