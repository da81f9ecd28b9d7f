import { type Command, Option } from 'commander';
import { startLocalKafka, type LocalKafkaHandle } from '../../tools/kafka/local-kafka.ts';
import { createLogger, startApp } from '../app.ts';
import { type RunConfig } from '../config.ts';
import { createKafka, ensureTopics } from '../consumers/kafka-client.ts';
import { type SliceSignal } from '../pipeline.ts';
import { parseIntOption, parsePositiveNumber } from './parse.ts';
import { startSampleTraffic } from '../demo/sample-traffic.ts';

interface DemoOptions {
  duration: number;
  rate: number;
  brokers?: string;
  logLevel: string;
}

/** `journeylens demo`: local broker, sample traffic, the processor, live signals, clean exit. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run everything end to end: a local Kafka broker, sample clickstream, the processor and a live view of its signals')
    .addOption(new Option('--duration <s>', 'seconds to run before shutting down').default(60).argParser(parseIntOption('--duration', 1, 86_400)))
    .addOption(new Option('--rate <events/s>', 'sample traffic rate').default(300).argParser(parsePositiveNumber('--rate')))
    .addOption(new Option('--brokers <list>', 'use this Kafka cluster instead of starting a local broker').env('KAFKA_BROKERS'))
    .addOption(new Option('--log-level <level>', 'processor log level').default('warn'))
    .action(async (opts: DemoOptions) => runDemo(opts));
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let broker: LocalKafkaHandle | undefined;
  const stopAll: (() => Promise<void>)[] = [];
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let brokers = opts.brokers;
    if (!brokers) {
      say('▶ starting a local Kafka 3.9.1 broker (KRaft, 127.0.0.1)…');
      broker = await startLocalKafka({ heap: '512m' });
      brokers = broker.bootstrap;
    }
    say(`▶ Kafka at ${brokers}`);
    const config: RunConfig = {
      brokers: brokers.split(','),
      input: ['demo.clicks'],
      signalsTopic: 'demo.signals',
      group: 'journeylens-demo',
      clientId: 'journeylens-demo',
      fromBeginning: true,
      tickMs: 250,
      connectTimeoutMs: 30_000,
      logLevel: opts.logLevel,
    };
    const kafka = createKafka({ brokers: config.brokers, clientId: 'journeylens-demo-admin', connectTimeoutMs: 30_000 });
    await ensureTopics(kafka, [{ topic: 'demo.clicks', partitions: 3 }, { topic: 'demo.signals', partitions: 3 }]);
    say('▶ topics demo.clicks → demo.signals ready');

    let shown = 0;
    let signals = 0;
    const app = await startApp(config, {
      log: createLogger(opts.logLevel),
      onSignal: (s: SliceSignal) => {
        signals++;
        if (shown < 12 || signals % 200 === 0) {
          shown++;
          say(`  signal  session=${s.sessionId} user=${s.userId ?? '-'} events=${s.eventCount} window=${new Date(s.windowStart).toISOString().slice(11, 19)}–${new Date(s.windowEnd).toISOString().slice(11, 19)}`);
        }
      },
    });
    stopAll.push(() => app.stop());
    say(`▶ processor running; producing sample clickstream at ~${opts.rate} events/s for ${opts.duration}s (Ctrl-C to stop early)`);
    const traffic = startSampleTraffic(kafka, { topic: 'demo.clicks', rate: opts.rate, signal: abort.signal });
    stopAll.unshift(() => traffic.stop());

    const started = Date.now();
    const status = setInterval(() => {
      const s = app.processor.stats;
      const secs = Math.max(1, (Date.now() - started) / 1000);
      say(`  [${Math.round(secs)}s] produced=${traffic.produced()} consumed=${s.events} (${Math.round(s.events / secs)}/s) signals=${s.signals}`);
    }, 5000);
    await Promise.race([new Promise((r) => setTimeout(r, opts.duration * 1000)), new Promise((r) => abort.signal.addEventListener('abort', r)), app.done]);
    clearInterval(status);
    say('▶ shutting down…');
    for (const stop of stopAll.splice(0)) await stop();
    const s = app.processor.stats;
    say(`✔ demo finished: ${traffic.produced()} events produced, ${s.events} consumed, ${s.signals} signals published`);
    if (s.signals === 0) throw new Error('the demo produced no signals');
  } finally {
    for (const stop of stopAll) await stop().catch(() => undefined);
    if (broker) {
      await broker.stop();
      say('▶ local Kafka stopped');
    }
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
