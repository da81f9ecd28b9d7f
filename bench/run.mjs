#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/*.ts (each prints one JSON object) and writes
// bench/results/latest.json. Pass --quick for the short forms; --skip=NAME[,NAME] leaves benchmarks out
// (named in latest.json and the doc).
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { performance } from 'node:perf_hooks';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
// --skip=NAME[,NAME]: benchmarks (file names without .ts) left out of this run, named in latest.json
const skip = args.filter((a) => a.startsWith('--skip=')).flatMap((a) => a.slice('--skip='.length).split(',')).filter((x) => x !== '');
const only = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--') && !a.startsWith('--skip='));
const all = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('_'));
const unknown = skip.filter((x) => !all.includes(`${x}.ts`));
if (unknown.length > 0) {
  process.stderr.write(`bench: --skip names no benchmark: ${unknown.join(', ')} (benchmarks: ${all.map((f) => f.replace(/\.ts$/, '')).join(', ')})\n`);
  process.exit(2);
}
const files = all.filter((f) => !skip.includes(f.replace(/\.ts$/, '')) && (only.length === 0 || only.some((o) => f.includes(o))));
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

// The box is shared: the load average is sampled through the run (every 5 s) and kept with the
// figures, so the doc can say how loaded the machine was while each benchmark ran.
const loadSamples = [];
const sampleLoad = () => loadSamples.push({ t: performance.now(), load1: loadavg()[0] });
sampleLoad();
const sampler = setInterval(sampleLoad, 5_000);
const loadBetween = (from, to) => {
  const xs = loadSamples.filter((x) => x.t >= from && x.t <= to).map((x) => x.load1);
  if (xs.length === 0) return { samples: 0, mean1: null, max1: null };
  return { samples: xs.length, mean1: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2), max1: +Math.max(...xs).toFixed(2) };
};

function runOne(f) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, f), ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', (err) => resolve({ status: null, stdout: `${stdout}\n${err.message}` }));
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

const results = {};
const timings = {};
const started = performance.now();
for (const f of files) {
  process.stderr.write(`bench: ${f} ${flags.join(' ')}\n`);
  const t0 = performance.now();
  const res = await runOne(f);
  const t1 = performance.now();
  sampleLoad();
  const name = f.replace(/\.ts$/, '');
  results[name] = lastJson(res.stdout) ?? { error: `exit ${res.status}`, output: res.stdout.slice(-2000) };
  timings[name] = { seconds: Math.round((t1 - t0) / 1000), load: loadBetween(t0, t1) };
  // what finished so far, in case a long run is cut off
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'partial.json'), JSON.stringify({ quick: flags.includes('--quick'), results, timings }, null, 2));
}
clearInterval(sampler);
const machine = { cpus: cpus().length, load: loadBetween(started, performance.now()), perBenchmark: timings };
mkdirSync(join(here, 'results'), { recursive: true });
const out = { at: new Date().toISOString(), quick: flags.includes('--quick'), node: process.version, command: ['npm run bench --', ...args].join(' '), seconds: Math.round((performance.now() - started) / 1000), skipped: skip, machine, results };
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify(out, null, 2));
process.stdout.write(`${JSON.stringify(out)}\n`);
// every benchmark must have produced its figures: a failed one fails the run
const failed = Object.entries(results).filter(([, v]) => v?.error !== undefined).map(([k]) => k);
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
