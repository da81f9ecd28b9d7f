// External tools some tests need (helm, Prometheus) come from scripts/ensure-*.mjs, which build
// or install them once. When that cannot work on this machine (no Go, no root for apt), the
// script says why and what to do; the test fails with that sentence, not with an exit code.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs scripts/<script> and returns what it prints on stdout (a path); throws its own message on failure. */
export function ensureTool(script: string): string {
  const res = spawnSync(process.execPath, [join(root, 'scripts', script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // Progress (go's download lines, apt's output) is passed on, so a slow first run shows what it does.
  if (res.stderr) process.stderr.write(res.stderr);
  if (res.status !== 0) {
    const said = res.stderr
      .split('\n')
      .filter((l) => l.startsWith('journeylens '))
      .pop();
    throw new Error(said ?? `scripts/${script} failed with exit code ${res.status ?? res.signal}`);
  }
  return res.stdout.trim();
}
