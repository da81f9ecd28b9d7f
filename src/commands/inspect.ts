// `journeylens inspect`: a first-run helper. Samples a topic or a file and prints a proposed
// config (stdout: JSON, ready to save and pass to `run --config` and `train --config`) and, on
// stderr, which field it took for what and why, with the event types and their counts.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ErrorCodes, UserError } from '../errors.ts';
import { sampleRecords } from '../history/history-source.ts';
import { proposeConfig } from '../history/propose-config.ts';
import { type HistoryFlags, addHistoryOptions, openHistory } from './history-options.ts';
import { parseIntOption } from './parse.ts';

export interface InspectOptions extends HistoryFlags {
  sample: number;
  out?: string;
}

export function registerInspectCommand(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('sample your records (--topic with --brokers, or --events FILE) and propose an ingestion config: which field is the session, user, event time (and unit), event type (with its values and counts)')
    .addOption(new Option('--sample <n>', 'records to sample').argParser(parseIntOption('--sample', 10, 1_000_000)).default(2000))
    .option('--out <file>', 'also write the proposed config to this file');
  addHistoryOptions(cmd, 'the records to inspect');
  cmd.action(async (opts: InspectOptions) => {
    const text = await runInspect(opts);
    process.stdout.write(text);
  });
}

/** Returns the proposed config (JSON text); writes the reasoning to stderr. */
export async function runInspect(opts: InspectOptions): Promise<string> {
  const history = await openHistory(opts);
  const { records, bad, read } = await sampleRecords(history.source, history.ingestion, opts.sample);
  if (records.length === 0) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${history.label}: none of the ${read} records sampled is a JSON object${read === 0 ? ' (it is empty)' : ''}; for Avro on a topic, give --config with ingestion.format and its schemas.`, { exitCode: 2 });
  }
  const p = proposeConfig(records);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  say(`sampled ${read} records of ${history.label}${bad > 0 ? ` (${bad} not decodable, left out)` : ''}`);
  for (const c of p.chosen) say(`  ${c.field.padEnd(9)} <- ${c.path}: ${c.why}`);
  for (const note of p.notes) say(`  note: ${note}`);
  say('save the config below (e.g. > journeylens.json), check it, and pass it with --config to run and train.');
  const config: Record<string, unknown> = {};
  if (history.source.kind === 'topic') {
    config.brokers = opts.brokers;
    config.input = history.source.topic;
  }
  config.ingestion = p.ingestion;
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if (opts.out !== undefined) writeFileSync(opts.out, text);
  return text;
}
