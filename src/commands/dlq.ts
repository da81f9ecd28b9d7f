import { type Command } from 'commander';
import { addConfigOptions, connectionOptions, type OptionSpec, resolveConfig, runOptions } from '../config.ts';
import { DLQ_REASONS, type DlqReason } from '../contracts/dead-letters.ts';
import { assertBrokersReachable, assertTopicsExist, createKafka } from '../consumers/kafka-client.ts';
import { createLogger } from '../log.ts';
import { replayDeadLetters } from '../sinks/dead-letter-replay.ts';

export const dlqReplayOptions = [
  ...connectionOptions,
  { key: 'from', flag: '--from <topic>', env: 'JOURNEYLENS_DLQ_REPLAY_FROM', kind: 'string', required: true, description: 'the dead-letter topic to replay' },
  { key: 'to', flag: '--to <topic>', env: 'JOURNEYLENS_DLQ_REPLAY_TO', kind: 'string', required: true, description: 'the topic to re-inject the records into (usually the input topic they came from)' },
  { key: 'reason', flag: '--reason <code>', env: 'JOURNEYLENS_DLQ_REPLAY_REASON', kind: 'enum', choices: DLQ_REASONS, description: 'replay only dead letters with this x-journeylens-error-code (default: all)' },
  { key: 'json', flag: '--json', env: 'JOURNEYLENS_DLQ_REPLAY_JSON', kind: 'boolean', default: false, description: 'print the counts as JSON' },
] as const satisfies readonly OptionSpec[];

/** `journeylens dlq replay`: dead letters back into a topic, once, after a fix. */
export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description('work with the dead-letter topic');
  const replay = dlq
    .command('replay')
    .description(
      're-inject dead letters (original key, value and headers, minus the error headers) into a topic after the cause was fixed; ' +
        'idempotent: progress is committed with the records in one Kafka transaction, so running it again re-injects nothing twice',
    );
  addConfigOptions(replay, dlqReplayOptions);
  replay.action(async (flags: Record<string, unknown>) => {
    const config = resolveConfig(dlqReplayOptions, flags, process.env, runOptions.map((o) => o.key));
    const log = createLogger({ level: config.logLevel, component: 'dlq-replay' });
    await assertBrokersReachable(config.brokers, config.connectTimeoutMs, config);
    const kafka = createKafka({
      brokers: config.brokers,
      clientId: config.clientId,
      connectTimeoutMs: config.connectTimeoutMs,
      security: config,
      onLog: (level, message, extra) => (level === 'error' ? log.warn({ kafkajs: extra }, message) : log.debug({ kafkajs: extra }, message)),
    });
    await assertTopicsExist(kafka, [
      { topic: config.from, option: '--from' },
      { topic: config.to, option: '--to' },
    ]);
    const report = await replayDeadLetters(kafka, { from: config.from, to: config.to, ...(config.reason ? { reason: config.reason as DlqReason } : {}), log });
    if (config.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const by = Object.entries(report.replayedByReason).map(([r, n]) => `${r} ${n}`).join(', ');
      process.stdout.write(
        `replayed ${report.replayed} of ${report.read} dead letters read from ${report.from} into ${report.to}${by ? ` (${by})` : ''}; ` +
          `skipped ${report.skippedAlreadyReplayed} replayed by an earlier run and ${report.skippedOtherReason} with another reason than ${report.reason}. ` +
          `Progress is kept in consumer group ${report.group}.\n`,
      );
    }
  });
}
