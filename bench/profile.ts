// Where the time goes under live load: the processor at a fixed open-loop rate in a child process
// run with --cpu-prof (one profile per thread), summarised as self time by function and by file
// over the last part of the run (after start-up), for the main thread and for the scoring
// worker(s). Rate: `--rate N` (default 8,000 events/s; quick 4,000).
//
//   node --expose-gc --import tsx bench/profile.ts [--quick] [--rate N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProfileSummary, summariseProfile } from './_cpuprofile.ts';

const quick = process.argv.includes('--quick');
const rateArg = process.argv.indexOf('--rate');
const rate = rateArg >= 0 ? Number(process.argv[rateArg + 1]) : quick ? 4_000 : 8_000;
const seconds = quick ? 15 : 40;
/** Start-up left out of the window (model load, group join, warm-up). */
const skipMs = (quick ? 5 : 10) * 1000;

const dir = mkdtempSync(join(tmpdir(), 'jl-profile-'));
try {
  const res = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', join(import.meta.dirname, '_profile-target.ts'), String(rate), String(seconds)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  if (res.status !== 0) throw new Error(`the profiled run exited with ${res.status}`);
  const stats = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const threadOf = (f: string) => Number(f.split('.').at(-3));
  // the profiles end when their thread does: the main thread's window is before the stop
  const window = { fromUs: stats.loadFromUs! + skipMs * 1000, toUs: stats.loadToUs! };
  const summaries = files.map((f) => ({ thread: threadOf(f), summary: summariseProfile(join(dir, f), { ...window, top: 15 }) }));
  const main = summaries.find((s) => s.thread === 0)?.summary;
  const isScoring = (s: ProfileSummary) => s.files.some((f) => f.where.startsWith('src/model/') || f.where.startsWith('wasm://'));
  const scoring = summaries.filter((s) => s.thread !== 0 && isScoring(s.summary)).map((s) => s.summary);
  process.stdout.write(`${JSON.stringify({ bench: 'profile', quick, rate, seconds, windowSeconds: (window.toUs - window.fromUs) / 1e6, stats, mainThread: main, scoringWorkers: scoring })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
