// `simulate --brokers`: simulated traffic to Kafka at a target rate. Factored as a function
// so the demo can run it in-process and stop it with an AbortSignal.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ErrorCodes, UserError } from '../errors.ts';
import { type SimulationOptions, Simulation } from './generator.ts';

/** The part of a kafkajs Producer used here; inject one to reuse a configured client (TLS, SASL) or in tests. */
export interface SimProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: { key: string; value: string }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

export interface ProduceProgress {
  events: number;
  sessions: number;
  elapsedMs: number;
  /** Events per second since the start. */
  rate: number;
}

export interface ProduceSimulatedOptions extends SimulationOptions {
  /** Bootstrap brokers, host:port. Ignored when `producer` is given. */
  brokers?: string[];
  topic: string;
  /** Target events per second. */
  rate: number;
  /** Stop after this much wall-clock time. */
  durationMs?: number;
  /** Stop (after the batch in flight is acknowledged) when aborted. */
  signal?: AbortSignal;
  onProgress?: (p: ProduceProgress) => void;
  producer?: SimProducer;
  clientId?: string;
  /** How often a batch is sent. Default 100 ms. */
  tickMs?: number;
}

export interface ProduceResult extends ProduceProgress {
  /** Why it stopped: the simulation ran out of sessions, the duration passed, or the signal fired. */
  reason: 'done' | 'duration' | 'aborted';
}

/**
 * Produces simulated ClickEvents as JSON, keyed by sessionId (a session stays on one
 * partition). Event times start at `start` (default: now) and advance in simulated time,
 * which runs faster than the wall clock: journeys spanning minutes arrive in seconds.
 */
export async function produceSimulated(options: ProduceSimulatedOptions): Promise<ProduceResult> {
  const { topic, rate, signal, onProgress } = options;
  if (!topic) throw new UserError(ErrorCodes.CONFIG_INVALID, '--topic is required to produce to Kafka.', { exitCode: 2 });
  if (!(rate > 0)) throw new UserError(ErrorCodes.CONFIG_INVALID, `--rate must be a positive number of events per second, got ${rate}.`, { exitCode: 2 });
  const sim = new Simulation({ ...options, start: options.start ?? Date.now() });
  const tickMs = options.tickMs ?? 100;
  const producer = options.producer ?? createProducer(options);
  const events = sim.events();
  let sent = 0;
  let sessions = 0;
  const t0 = Date.now();
  const progress = (): ProduceProgress => {
    const elapsedMs = Date.now() - t0;
    return { events: sent, sessions, elapsedMs, rate: elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0 };
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
  try {
    for (;;) {
      if (signal?.aborted) {
        reason = 'aborted';
        break;
      }
      const elapsed = Date.now() - t0;
      if (options.durationMs !== undefined && elapsed >= options.durationMs) {
        reason = 'duration';
        break;
      }
      // Catch up to the target, but after a stall send at most one second's worth at once.
      const due = Math.min(Math.floor((rate * elapsed) / 1000) - sent, Math.ceil(rate));
      const messages: { key: string; value: string }[] = [];
      let exhausted = false;
      for (let i = 0; i < due; i++) {
        const next = events.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        if (next.value.step === 0) sessions++;
        messages.push({ key: next.value.event.sessionId, value: JSON.stringify(next.value.event) });
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
      if (exhausted) break;
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
