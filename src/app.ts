// Wires a processor from a resolved config: Kafka client, source, sink, logger. Used by
// `journeylens run` and by the in-process demo.
import { pino, type Logger } from 'pino';
import { inputTopics, type RunConfig } from './config.ts';
import { assertBrokersReachable, createKafka } from './consumers/kafka-client.ts';
import { KafkajsSource } from './consumers/source.ts';
import { Processor, type SliceSignal } from './pipeline.ts';
import { KafkaSink } from './sinks/kafka-sink.ts';

export interface App {
  processor: Processor;
  log: Logger;
  /** Resolves when the consumer stopped (after stop()), rejects if it crashed for good. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface AppHooks {
  onSignal?: (signal: SliceSignal) => void;
  log?: Logger;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'journeylens' } }, pino.destination(2));
}

export async function startApp(config: RunConfig, hooks: AppHooks = {}): Promise<App> {
  const log = hooks.log ?? createLogger(config.logLevel);
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    onLog: (level, message, extra) => {
      // kafkajs is chatty at warn during normal rebalances; keep its lines at debug unless errors.
      if (level === 'error') log.warn({ kafkajs: extra }, message);
      else log.debug({ kafkajs: extra }, message);
    },
  });
  await assertBrokersReachable(config.brokers, config.connectTimeoutMs);

  let rejectDone: (e: Error) => void = () => undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const source = new KafkajsSource(kafka, {
    group: config.group,
    topics: inputTopics(config.input),
    fromBeginning: config.fromBeginning,
    onJoin: (assignment) => log.info({ group: config.group, assignment }, 'consumer joined the group'),
    onCrash: (error, restart) => {
      log.error({ err: error, restart }, 'consumer crashed');
      if (!restart) rejectDone(error);
    },
  });
  const sink = new KafkaSink(kafka);
  const processor = new Processor(source, sink, {
    signalsTopic: config.signalsTopic,
    modelVersion: 'slice-0',
    log,
    ...(hooks.onSignal ? { onSignal: hooks.onSignal } : {}),
  });
  await processor.run();
  log.info({ brokers: config.brokers, input: config.input, signalsTopic: config.signalsTopic }, 'journeylens is running');

  let stopping: Promise<void> | undefined;
  return {
    processor,
    log,
    done,
    stop() {
      stopping ??= processor.stop().then(() => {
        log.info(processor.stats, 'journeylens stopped');
        resolveDone();
      });
      return stopping;
    },
  };
}
