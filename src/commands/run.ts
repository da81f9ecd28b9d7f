import { type Command } from 'commander';
import { feedFromProcessor } from '../console/beside.ts';
import { type RunningConsole, startConsole } from '../console/console.ts';
import { startApp, type AppHooks } from '../processor/app.ts';
import { addConfigOptions, resolveConfig, runOptions, type RunConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { resolveBundleDir } from '../model/runtime.ts';
import { parseRiskSetting } from '../contracts/risk.ts';

/** `journeylens run`: the long-running processor. */
export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description('consume click events, keep per-session journeys and publish signals (runs until SIGTERM/SIGINT)');
  addConfigOptions(cmd, runOptions);
  cmd.action(async (flags: Record<string, unknown>) => {
    const config = resolveConfig(runOptions, flags);
    const ui = await startConsoleBeside(config);
    const app = await startApp(config, { flags, ...ui?.hooks }).catch(async (err: unknown) => {
      await ui?.console.stop();
      throw err;
    });
    const shutdown = (signal: string) => {
      app.log.info({ signal }, 'shutting down: stop fetching, flush, commit, disconnect');
      void app.stop().finally(() => ui?.console.stop());
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    await app.done;
    await ui?.console.stop();
  });
}

/**
 * The web console beside the processor when --ui-port is set (the demo turns it on too): its
 * server starts before the processor, so a refused binding stops `run` before it connects.
 */
export async function startConsoleBeside(config: RunConfig): Promise<{ console: RunningConsole; hooks: Pick<AppHooks, 'onEvent' | 'tickHooks' | 'onSignal' | 'onAlert'> } | undefined> {
  if (config.uiPort === undefined) return undefined;
  const running = await startConsole({
    mode: 'run',
    host: config.uiHost,
    port: config.uiPort,
    token: config.uiToken,
    bundleDir: resolveBundleDir(config.bundle),
    risk: parseRiskSetting(config.risk, '--risk (env JOURNEYLENS_RISK)'),
    log: createLogger({ level: config.logLevel, component: 'console' }),
  });
  const feed = feedFromProcessor(running.state);
  return { console: running, hooks: { onEvent: feed.onEvent, tickHooks: [feed.tickHook], onSignal: feed.onSignal, onAlert: feed.onAlert } };
}
