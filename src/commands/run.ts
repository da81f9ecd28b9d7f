import { type Command } from 'commander';
import { startApp } from '../processor/app.ts';
import { addConfigOptions, resolveConfig, runOptions } from '../config.ts';

/** `journeylens run`: the long-running processor. */
export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description('consume click events, keep per-session journeys and publish signals (runs until SIGTERM/SIGINT)');
  addConfigOptions(cmd, runOptions);
  cmd.action(async (flags: Record<string, unknown>) => {
    const config = resolveConfig(runOptions, flags);
    const app = await startApp(config, { flags });
    const shutdown = (signal: string) => {
      app.log.info({ signal }, 'shutting down: stop fetching, flush, commit, disconnect');
      void app.stop();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    await app.done;
  });
}
