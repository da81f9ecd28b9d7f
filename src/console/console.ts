// One console: its state and its HTTP server, started together and stopped together. `run` and
// the demo feed it from the processor (feedFromProcessor), `journeylens ui` from the output
// topics (startTopicReader).
import { type Logger } from 'pino';
import { checkConsoleBinding, type ConsoleServer, startConsoleServer } from './server.ts';
import { type RiskSetting } from '../contracts/risk.ts';
import { type ConsoleMode, ConsoleState } from './state.ts';

export interface ConsoleOptions {
  mode: ConsoleMode;
  host: string;
  port: number;
  token?: string | undefined;
  bundleDir?: string | undefined;
  risk: RiskSetting;
  /** Pseudonyms of the signals topic (journeylens ui with --pseudonymize-key-file). */
  pseudonym?: ((id: string) => string) | undefined;
  log: Logger;
}

export interface RunningConsole {
  readonly state: ConsoleState;
  readonly server: ConsoleServer;
  /** The page's address, e.g. http://127.0.0.1:9465/ */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  // the binding rules first: a refusal must not wait for a bundle to load
  checkConsoleBinding(options.host, options.token);
  const state = new ConsoleState({ mode: options.mode, risk: options.risk, log: options.log, ...(options.bundleDir !== undefined ? { bundleDir: options.bundleDir } : {}), ...(options.pseudonym !== undefined ? { pseudonym: options.pseudonym } : {}) });
  const server = await startConsoleServer({ state, host: options.host, port: options.port, token: options.token, log: options.log });
  options.log.info({ url: `${server.url}/`, mode: options.mode, token: options.token !== undefined }, 'console: serving');
  return { state, server, url: `${server.url}/`, stop: () => server.stop() };
}
