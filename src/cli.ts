// The `journeylens` command line. Each subcommand lives in src/commands/<name>.ts and is
// registered here; every one has --help.
import { Command, CommanderError } from 'commander';
import { registerKafkaCommands } from './commands/kafka.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerRenderCommand } from './commands/render.ts';
import { registerConfigCommand } from './commands/config.ts';
import { registerTrainCommand } from './commands/train.ts';
import { registerEvalCommand } from './commands/eval.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerDlqCommands } from './commands/dlq.ts';
import { registerUiCommand } from './commands/ui.ts';
import { JourneylensError, UserError } from './errors.ts';
import { version } from './version.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('journeylens')
    .description('Real-time customer-journey analytics: clickstream → journey images → CNN embeddings → clusters and churn-risk signals.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerKafkaCommands(program);
  registerRunCommand(program);
  registerDemoCommand(program);
  registerSimulateCommand(program);
  registerImportCommand(program);
  registerRenderCommand(program);
  registerConfigCommand(program);
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerInspectCommand(program);
  registerDlqCommands(program);
  registerUiCommand(program);
  return program;
}

/** Runs the CLI; resolves to the exit code instead of calling process.exit itself. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.commands.forEach(function override(c: Command): void {
    c.exitOverride();
    c.commands.forEach(override);
  });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (unknown option, missing argument, --help, --version)
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`journeylens: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof JourneylensError) {
      process.stderr.write(`journeylens: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`journeylens: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
