import { type Command } from 'commander';
import { addConfigOptions, checkRunConfig, configSection, redactConfig, resolveConfig, runOptions } from '../config.ts';
import { parseIngestionOptions } from '../consumers/options.ts';

/** `journeylens config print`: the effective `run` config (flags > env > file > defaults), secrets redacted. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('inspect the configuration `journeylens run` would use');
  const print = config
    .command('print')
    .description('validate and print the effective config as JSON (flags > env > config file > defaults), with secrets redacted');
  addConfigOptions(print, runOptions);
  print.action((flags: Record<string, unknown>) => {
    const effective = checkRunConfig(resolveConfig(runOptions, flags));
    const section = configSection('ingestion', flags);
    const ingestion = parseIngestionOptions(section.value, 'ingestion');
    process.stdout.write(`${JSON.stringify({ ...redactConfig(runOptions, effective), ingestion }, null, 2)}\n`);
  });
}
