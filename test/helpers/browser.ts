// A real headless Chromium for the web-console tests: Debian's `chromium` package (installed
// once by scripts/ensure-chromium.mjs, the way Prometheus is) driven with playwright-core,
// which uses an existing browser and downloads none.
//
// The browser is started here, not by playwright's launch(): playwright refuses a
// --user-data-dir of our own and does not expose the process it starts, and the tests want
// both — exactly these flags, a fresh profile that is deleted afterwards, and a pid to kill.
// playwright-core then attaches over the DevTools protocol (connectOverCDP) on 127.0.0.1.
// The browser is always stopped: close(), a process 'exit' hook as a backstop, and a
// watchdog shell that takes it down if this process is killed outright (SIGKILL skips 'exit').
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { ensureTool } from './tools.ts';

/** The flags every test browser runs with (a new profile directory is added per launch). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox', // tests run as root in CI, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking', // no traffic beyond the pages a test opens
  '--disable-component-update',
  '--disable-sync',
] as const;

export interface HeadlessChromium {
  readonly browser: Browser;
  /** e.g. `Chrome/156.0.8078.108` as the DevTools protocol reports it. */
  readonly version: string;
  readonly pid: number;
  readonly executablePath: string;
  /** A page in a context of its own (cookies, storage and permissions not shared with other pages). */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** Closes every context, stops the browser and deletes its profile. Safe to call twice. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** How long to wait for the DevTools endpoint, default 30 s. */
  startTimeoutMs?: number;
  /** Extra command-line flags, after CHROMIUM_FLAGS. */
  args?: string[];
}

/** Installs Chromium when missing (scripts/ensure-chromium.mjs) and returns its path (`command -v chromium`). */
export function ensureChromium(): string {
  return ensureTool('ensure-chromium.mjs');
}

interface Running {
  child: ChildProcess;
  profile: string;
  watchdog: ChildProcess;
}

const running = new Set<Running>();
process.once('exit', () => {
  for (const r of running) cleanUp(r, 'SIGKILL');
});

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function cleanUp(r: Running, signal: NodeJS.Signals): void {
  if (alive(r.child)) r.child.kill(signal);
  if (alive(r.watchdog)) r.watchdog.kill('SIGKILL');
  // Chromium may still be writing its profile for a moment after a kill; a leftover temp
  // directory is not worth failing a test run for.
  try {
    rmSync(r.profile, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch {
    // best effort
  }
  running.delete(r);
}

export async function launchChromium(options: LaunchOptions = {}): Promise<HeadlessChromium> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'jl-chromium-'));
  const args = [
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${profile}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0', // Chromium picks a free port and prints it
    ...(options.args ?? []),
    'about:blank',
  ];
  // /usr/bin/chromium is Debian's wrapper script; it execs the browser, so the pid is the browser's.
  const child = spawn(executablePath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not start ${executablePath}`);
  }
  // If this process dies without close() (SIGKILL, a killed test worker), the watchdog stops the
  // browser and removes its profile. It watches both pids so it never outlives the browser.
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; if kill -0 ${pid} 2>/dev/null; then kill -9 ${pid}; sleep 1; rm -rf '${profile}'; fi`],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const entry: Running = { child, profile, watchdog };
  running.add(entry);

  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => done(new Error(`chromium printed no DevTools endpoint within ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8000);
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m?.[1]) done(undefined, m[1]);
    };
    const onExit = (code: number | null, signal: string | null): void => done(new Error(`chromium exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`));
    function done(err?: Error, url?: string): void {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(url!);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  }).catch((err: unknown) => {
    cleanUp(entry, 'SIGKILL');
    throw err;
  });
  // Keep draining stderr (a full pipe would stall the browser) and keep its tail for errors.
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000);
  });

  let browser: Browser;
  try {
    browser = await chromium.connectOverCDP(endpoint, { timeout: options.startTimeoutMs ?? 30_000 });
  } catch (err) {
    cleanUp(entry, 'SIGKILL');
    throw err;
  }

  const contexts = new Set<BrowserContext>();
  let closed = false;
  return {
    browser,
    version: browser.version(),
    pid,
    executablePath,
    async newPage(contextOptions?: BrowserContextOptions): Promise<Page> {
      if (closed) throw new Error('the browser is closed');
      const context = await browser.newContext(contextOptions);
      contexts.add(context);
      context.once('close', () => contexts.delete(context));
      return context.newPage();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const context of contexts) await context.close().catch(() => undefined);
      // A CDP-attached browser is not stopped by browser.close() (that only detaches); ask it
      // to quit over the protocol, then make sure with signals.
      const exited = new Promise<void>((resolve) => {
        if (!alive(child)) resolve();
        else child.once('exit', () => resolve());
      });
      try {
        const session = await browser.newBrowserCDPSession();
        await session.send('Browser.close').catch(() => undefined);
      } catch {
        // already gone
      }
      await browser.close().catch(() => undefined);
      const term = setTimeout(() => child.kill('SIGTERM'), 5_000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(term);
      clearTimeout(kill);
      cleanUp(entry, 'SIGKILL');
    },
  };
}

export interface PageTrouble {
  /** alert/confirm/prompt dialogs the page opened (each dismissed at once): script that ran. */
  dialogs: string[];
  /** Uncaught exceptions in the page. */
  errors: string[];
  /** Console messages of type error, CSP violation reports among them. */
  consoleErrors: string[];
}

/**
 * Records what a page does that a test of untrusted input wants to see none of: dialogs
 * (dismissed, so a test never hangs on one), uncaught errors and console errors.
 */
export function recordTrouble(page: Page): PageTrouble {
  const trouble: PageTrouble = { dialogs: [], errors: [], consoleErrors: [] };
  page.on('dialog', (dialog) => {
    trouble.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (err) => trouble.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') trouble.consoleErrors.push(msg.text());
  });
  return trouble;
}
