import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { ErrorCodes, UserError } from '../errors.ts';
import { formatSummary } from '../sim/stats.ts';
import { writeSimulationFiles } from '../sim/files.ts';
import { produceSimulated } from '../sim/produce.ts';
import { parseIntOption, parseList, parsePositiveNumber } from './parse.ts';

interface SimulateOptions {
  sessions?: number;
  users?: number;
  seed: number;
  start?: string;
  days: number;
  out?: string;
  brokers?: string[];
  topic?: string;
  rate: number;
  duration?: number;
  replay?: boolean;
  warmup?: number;
  json?: boolean;
}

/** Below this many sessions a progress bar only flickers. */
const PROGRESS_MIN_SESSIONS = 2000;

/** `journeylens simulate`: synthetic clickstream with known archetypes and churn, to files or Kafka. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'generate synthetic clickstream (users with several sessions, six journey archetypes, churn outcomes) to files (--out) or to Kafka (--brokers/--topic)',
    )
    .addOption(new Option('--sessions <n>', 'number of sessions (files: default 1000; Kafka: stop once this many are sent, default endless)').argParser(parseIntOption('--sessions', 1, 100_000_000)))
    .addOption(new Option('--users <n>', 'number of users sharing the sessions (default: sessions / 3)').argParser(parseIntOption('--users', 1, 100_000_000)))
    .addOption(new Option('--seed <n>', 'PRNG seed: the same seed gives the same bytes').argParser(parseIntOption('--seed', 0, 0xffffffff)).default(1))
    .addOption(new Option('--start <iso>', 'event time of the first day, ISO 8601 (files and --replay; default 2026-01-05T00:00:00Z)'))
    .addOption(new Option('--days <n>', 'spread first visits over this many days (files)').argParser(parsePositiveNumber('--days')).default(7))
    .addOption(
      new Option(
        '--out <dir>',
        'write DIR/events.jsonl and DIR/events.avro (ClickEvents ordered by event time), DIR/labels.csv (header "userId,churned", one row per user, 1 = churned) and DIR/archetypes.csv (header "sessionId,archetype")',
      ),
    )
    .addOption(new Option('--brokers <list>', 'produce to Kafka at these bootstrap brokers, host:port[,host:port]').argParser(parseList))
    .addOption(new Option('--topic <name>', 'Kafka topic (with --brokers)'))
    .addOption(new Option('--rate <events/s>', 'Kafka: target events per second (also a hard cap)').argParser(parsePositiveNumber('--rate')).default(200))
    .addOption(new Option('--duration <s>', 'Kafka: stop after this many seconds').argParser(parsePositiveNumber('--duration')))
    .addOption(
      new Option(
        '--replay',
        'Kafka: send simulated time from --start as fast as --rate allows (reproducible per seed) instead of live traffic whose event time follows the clock',
      ),
    )
    .addOption(new Option('--warmup <s>', 'Kafka, live: start the simulation this long before now so traffic is at full rate at once').argParser(parsePositiveNumber('--warmup')).default(600))
    .addOption(new Option('--json', 'print the summary as JSON instead of text'))
    .action(async (opts: SimulateOptions) => {
      const start = parseStart(opts.start);
      if ((opts.out === undefined) === (opts.brokers === undefined)) {
        throw new UserError(ErrorCodes.CONFIG_INVALID, 'simulate needs exactly one destination: --out DIR for files, or --brokers host:port --topic T for Kafka.', { exitCode: 2 });
      }
      if (opts.out !== undefined) await toFiles(opts, opts.out, start);
      else await toKafka(opts, opts.brokers ?? [], start);
    });
}

function parseStart(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new UserError(ErrorCodes.CONFIG_INVALID, `--start must be an ISO 8601 time such as 2026-01-05T00:00:00Z, got "${iso}".`, { exitCode: 2 });
  return t;
}

async function toFiles(opts: SimulateOptions, out: string, start: number | undefined): Promise<void> {
  if (opts.topic !== undefined || opts.duration !== undefined || opts.replay) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--topic, --duration and --replay apply to Kafka output only; drop them or use --brokers instead of --out.', { exitCode: 2 });
  }
  const sessions = opts.sessions ?? 1000;
  const bar =
    process.stderr.isTTY && sessions >= PROGRESS_MIN_SESSIONS
      ? new cliProgress.SingleBar({ stream: process.stderr, format: 'simulate [{bar}] {percentage}% | {value}/{total} sessions | eta {eta}s' }, cliProgress.Presets.shades_classic)
      : undefined;
  bar?.start(sessions, 0);
  try {
    const summary = await writeSimulationFiles({
      sessions,
      users: opts.users,
      seed: opts.seed,
      start,
      days: opts.days,
      outDir: out,
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `wrote ${out}/{events.jsonl,events.avro,labels.csv,archetypes.csv}\n${formatSummary(summary)}`);
  } finally {
    bar?.stop();
  }
}

async function toKafka(opts: SimulateOptions, brokers: string[], start: number | undefined): Promise<void> {
  if (!opts.topic) throw new UserError(ErrorCodes.CONFIG_INVALID, '--topic is required with --brokers.', { exitCode: 2 });
  if (!opts.replay && start !== undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--start applies to files and --replay; live traffic (the default for Kafka) starts now.', { exitCode: 2 });
  }
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const interactive = process.stderr.isTTY;
  let lastPrint = 0;
  try {
    const result = await produceSimulated({
      brokers,
      topic: opts.topic,
      rate: opts.rate,
      durationMs: opts.duration === undefined ? undefined : opts.duration * 1000,
      sessions: opts.sessions,
      users: opts.users,
      seed: opts.seed,
      start,
      days: opts.days,
      pacing: opts.replay ? 'replay' : 'realtime',
      warmupMs: (opts.warmup ?? 600) * 1000,
      signal: ac.signal,
      onProgress: (p) => {
        if (!interactive || p.elapsedMs - lastPrint < 1000) return;
        lastPrint = p.elapsedMs;
        process.stderr.write(`\r${p.events} events, ${p.sessions} sessions, ${p.rate.toFixed(0)} events/s, event time ${(p.lagMs / 1000).toFixed(1)} s behind the clock   `);
      },
    });
    if (interactive) process.stderr.write('\n');
    const summary = { topic: opts.topic, ...result };
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(summary)}\n`
        : `produced ${result.events} events (${result.sessions} sessions started) to ${opts.topic} in ${(result.elapsedMs / 1000).toFixed(1)} s, ${result.rate.toFixed(0)} events/s` +
            `${result.backlogEvents > 0 ? ` (${result.backlogEvents} of them the warm-up backlog, sent at once)` : ''}; stopped: ${result.reason}\n`,
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
