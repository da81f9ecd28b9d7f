import { type Command, Option } from 'commander';
import { startLocalKafka, type LocalKafkaHandle } from '../local-kafka/local-kafka.ts';
import { startApp } from '../processor/app.ts';
import { resolveConfig, runOptions } from '../config.ts';
import { type ChurnAlert, type JourneySignal } from '../contracts/records.ts';
import { createKafka, ensureTopics } from '../consumers/kafka-client.ts';
import { createLogger } from '../log.ts';
import { produceSimulated } from '../sim/produce.ts';
import { parseIntOption, parsePositiveNumber } from './parse.ts';
import { startConsoleBeside } from './run.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

interface DemoOptions {
  duration: number;
  rate: number;
  seed: number;
  brokers?: string;
  metricsPort: number;
  uiPort: number;
  logLevel: string;
}

const TOPICS = { clicks: 'demo.clicks', signals: 'demo.signals', alerts: 'demo.alerts', dlq: 'demo.dlq' } as const;

/** `journeylens demo`: local broker, simulated clickstream, the processor, a live view, clean exit. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run everything end to end: a local Kafka broker, simulated clickstream, the processor and a live view of its signals and alerts')
    .addOption(new Option('--duration <s>', 'seconds to run before shutting down').default(60).argParser(parseIntOption('--duration', 1, 86_400)))
    .addOption(new Option('--rate <events/s>', 'simulated traffic rate').default(300).argParser(parsePositiveNumber('--rate')))
    .addOption(new Option('--seed <n>', 'simulation seed').default(7).argParser(parseIntOption('--seed', 0, 2 ** 31 - 1)))
    .addOption(new Option('--brokers <list>', 'use this Kafka cluster instead of starting a local broker').env('KAFKA_BROKERS'))
    .addOption(new Option('--metrics-port <port>', 'port of /metrics (0 = any free port)').default(0).argParser(parseIntOption('--metrics-port', 0, 65535)))
    .addOption(new Option('--ui-port <port>', 'port of the web console on 127.0.0.1 (0 = any free port)').default(0).argParser(parseIntOption('--ui-port', 0, 65535)))
    .addOption(new Option('--log-level <level>', 'processor log level').default('error'))
    .action(async (opts: DemoOptions) => runDemo(opts));
}

function bar(fraction: number, width = 20): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(n) + '·'.repeat(width - n);
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const say = (line = '') => process.stdout.write(`${line}\n`);
  let broker: LocalKafkaHandle | undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  let ui: Awaited<ReturnType<typeof startConsoleBeside>> = undefined;
  try {
    let brokers = opts.brokers;
    if (!brokers) {
      say('▶ starting a local Kafka 3.9.1 broker (KRaft, 127.0.0.1)…');
      broker = await startLocalKafka({ heap: '512m' });
      brokers = broker.bootstrap;
    }
    say(`▶ Kafka at ${brokers}`);
    const kafka = createKafka({ brokers: brokers.split(','), clientId: 'journeylens-demo-admin', connectTimeoutMs: 30_000 });
    await ensureTopics(kafka, Object.values(TOPICS).map((topic) => ({ topic, partitions: 3 })));
    say(`▶ topics ${TOPICS.clicks} → ${TOPICS.signals}, ${TOPICS.alerts}, ${TOPICS.dlq}`);

    const config = resolveConfig(
      runOptions,
      {
        brokers,
        input: TOPICS.clicks,
        signalsTopic: TOPICS.signals,
        alertsTopic: TOPICS.alerts,
        dlqTopic: TOPICS.dlq,
        group: 'journeylens-demo',
        clientId: 'journeylens-demo',
        metricsPort: String(opts.metricsPort),
        metricsHost: '127.0.0.1',
        uiPort: String(opts.uiPort),
        uiHost: '127.0.0.1',
        logLevel: opts.logLevel,
      },
      {},
    );
    ui = await startConsoleBeside(config);
    const clusters = new Map<string, number>();
    const alerts: ChurnAlert[] = [];
    let alertCount = 0;
    let latest: JourneySignal | undefined;
    const beside = ui?.hooks;
    app = await startApp(config, {
      log: createLogger({ level: opts.logLevel, component: 'demo' }),
      ...(beside?.onEvent ? { onEvent: beside.onEvent } : {}),
      ...(beside?.tickHooks ? { tickHooks: beside.tickHooks } : {}),
      onSignal: (s) => {
        latest = s;
        if (s.final) clusters.set(s.clusterLabel, (clusters.get(s.clusterLabel) ?? 0) + 1);
        beside?.onSignal?.(s);
      },
      onAlert: (a) => {
        alertCount++;
        alerts.push(a);
        beside?.onAlert?.(a);
      },
    });
    say(`▶ processor running · metrics at ${app.ops.url}/metrics · health at ${app.ops.url}/readyz`);
    if (ui) say(`▶ web console at ${ui.console.url} (open it in a browser while the demo runs)`);
    say(`▶ simulating shoppers at ~${opts.rate} events/s for ${opts.duration}s (seed ${opts.seed}; Ctrl-C stops early)`);
    say();

    // Simulated time runs much faster than the wall clock (sessions must end within the demo), so
    // it starts a week back: event times stay in the past and pass the future-skew check.
    const traffic = produceSimulated({ brokers: brokers.split(','), topic: TOPICS.clicks, rate: opts.rate, seed: opts.seed, start: Date.now() - 7 * 86_400_000, signal: abort.signal, durationMs: opts.duration * 1000, clientId: 'journeylens-demo-traffic' });
    const started = Date.now();
    const status = setInterval(() => {
      const s = app!.processor.stats;
      const secs = Math.max(1, (Date.now() - started) / 1000);
      say(`[${String(Math.round(secs)).padStart(3)}s] events ${s.events} (${Math.round(s.events / secs)}/s) · active sessions ${app!.processor.activeSessions} · signals ${s.signals} · alerts ${alertCount} · dead letters ${s.dead} · late ${s.late}`);
      const total = [...clusters.values()].reduce((a, b) => a + b, 0);
      if (total > 0) {
        say('       cluster mix (closed sessions):');
        for (const [label, n] of [...clusters].sort((a, b) => b[1] - a[1]).slice(0, 8)) say(`         ${bar(n / total)} ${String(Math.round((100 * n) / total)).padStart(3)}%  ${label}`);
      }
      // the latest few alerts since the last view, with the reason a CRM agent would read
      const fresh = alerts.splice(0);
      for (const a of fresh.slice(-4)) say(`  ⚠ ${a.riskBand.toUpperCase()} churn risk ${a.churnRisk.toFixed(2)} · user ${a.userId ?? '-'} · session ${a.sessionId} · ${a.reason}`);
      if (fresh.length > 4) say(`    … and ${fresh.length - 4} more alerts in the last 5 s (topic ${TOPICS.alerts})`);
      if (latest) say(`       latest signal: session ${latest.sessionId} · ${latest.eventCount} events · cluster "${latest.clusterLabel}" · risk ${latest.churnRisk.toFixed(2)} (${latest.riskBand})`);
    }, 5000);
    const produced = await Promise.race([traffic, app.done.then(() => undefined)]);
    // let the last micro-batches drain so the final view is complete
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(status);
    say();
    say('▶ shutting down…');
    await app.stop();
    const s = app.processor.stats;
    say(`✔ demo finished: ${produced?.events ?? s.events} events produced, ${s.events} consumed, ${s.signals} signals, ${alertCount} alerts, ${s.dead} dead letters`);
    say('  see a journey as a picture: journeylens simulate --sessions 20 --seed 7 --out /tmp/jl && journeylens render --events /tmp/jl/events.jsonl --session <sessionId> --out session.png');
    if (s.signals === 0) throw new JourneylensError(ErrorCodes.INTERNAL, 'the demo produced no signals');
  } finally {
    await app?.stop().catch(() => undefined);
    await ui?.console.stop();
    if (broker) {
      await broker.stop();
      say('▶ local Kafka stopped');
    }
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
