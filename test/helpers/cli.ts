// Runs the built CLI (bin/journeylens.js → dist/) as a child process, the way users run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../bin/journeylens.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  waitForOutput(re: RegExp, timeoutMs: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out) && !re.test(err)) {
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before printing ${re}:\n${err.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; stderr:\n${err.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = startCli(args, env);
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** A console's address from its "console: serving" log line (JSON on stderr); one bound to 0.0.0.0 is reached on loopback. */
export async function consoleUrl(proc: CliProcess): Promise<string> {
  await proc.waitForOutput(/"msg":"console: serving"/, 90_000);
  const line = proc.stderr().split('\n').find((l) => l.includes('"msg":"console: serving"'))!;
  return (JSON.parse(line) as { url: string }).url.replace('//0.0.0.0:', '//127.0.0.1:').replace(/\/$/, '');
}
