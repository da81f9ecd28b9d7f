#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/*.ts (each prints one JSON object) and writes
// bench/results/latest.json. Pass --quick for the short forms.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('_') && (only.length === 0 || only.some((o) => f.includes(o))));
/** The benchmark's figures: its last stdout line, or a pretty-printed object ending the output. */
function lastJson(stdout) {
  const text = stdout.trim();
  const lines = text.split('\n');
  const candidates = [lines.at(-1) ?? '', text.slice(Math.max(0, text.lastIndexOf('\n{') + 1))];
  for (const c of candidates) {
    try {
      return JSON.parse(c);
    } catch {
      // not this one
    }
  }
  return undefined;
}

const results = {};
const started = performance.now();
for (const f of files) {
  process.stderr.write(`bench: ${f} ${flags.join(' ')}\n`);
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, f), ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  results[f.replace(/\.ts$/, '')] = lastJson(res.stdout) ?? { error: `exit ${res.status}`, output: res.stdout.slice(-2000) };
}
mkdirSync(join(here, 'results'), { recursive: true });
const out = { at: new Date().toISOString(), quick: flags.includes('--quick'), node: process.version, seconds: Math.round((performance.now() - started) / 1000), results };
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify(out, null, 2));
process.stdout.write(`${JSON.stringify(out)}\n`);
// every benchmark must have produced its figures: a failed one fails the run
const failed = Object.entries(results).filter(([, v]) => v?.error !== undefined).map(([k]) => k);
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
