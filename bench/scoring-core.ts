// The scoring worker's cost per scored view, stage by stage, without Kafka or threads: the
// scoring core (src/model/scoring-core.ts, what a scoring worker runs) on packed ticks, the
// shipped bundle loaded inline once per variant, for two workloads: generator sessions (final and
// prefix states of `journeylens simulate` sessions, the population the bundle was trained on) and
// the open-loop sessions bench/latency.ts sends (bench/_open-loop-producer.mjs: event types in
// turn, one page pattern, 1 s dwell), which lie away from the training embeddings. Variants differ in the neighbours search: the exact
// search (the default) and hnswlib at the bundle's ef 64 and at 25. Rounds alternate the
// variants, so each is measured beside the others under the same load; the figures are the
// median over rounds of µs per view. Stage times are wall clock, which a loaded box inflates (the
// thread waits for a core inside a stage); cpuUsPerView is the process's CPU time per view over
// the same rounds (packing included), which moves much less with the load beside it. It also
// says how many views score differently than under the first variant (and by how much).
//
//   node --expose-gc --import tsx bench/scoring-core.ts [--quick] [--tick N] [--variants exact,64,25]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../src/model/bundle.ts';
import { noStageTimes, type ScoredBatch, type ScoringCore, type StageTimes } from '../src/model/scoring-core.ts';
import { type LoadedBundle } from '../src/model/bundle.ts';
import { type PackedViews, packedInput, packViews } from '../src/model/view-batch.ts';
import { type SessionView } from '../src/journey/session-view.ts';
import { writeFileSync } from 'node:fs';
import { defaultImageSpec } from '../src/journey/image-spec.ts';
import { writeSimulationFiles } from '../src/sim/files.ts';
import { loadTrainingData } from '../src/training/index.ts';

const quick = process.argv.includes('--quick');
const tickArg = process.argv.indexOf('--tick');
const tick = tickArg >= 0 ? Number(process.argv[tickArg + 1]) : 256;
const sessions = quick ? 600 : 2000;
const rounds = quick ? 5 : 9;
const bundleDir = join(import.meta.dirname, '..', 'models', 'default');

// --variants exact,64,25: the neighbours searches to compare (a number: hnswlib at that ef)
const variantsArg = process.argv.indexOf('--variants');
const variants = (variantsArg >= 0 ? process.argv[variantsArg + 1]! : 'exact,64,25').split(',').map((v) => {
  if (v === 'exact') return { name: 'exact' };
  const ef = Number(v);
  if (!Number.isInteger(ef) || ef < 25) throw new Error(`--variants: '${v}' is neither 'exact' nor an hnswlib ef of at least 25`);
  return { name: `hnsw ef ${ef}`, neighbourEf: ef };
});

async function viewsOf(dir: string): Promise<SessionView[]> {
  const data = await loadTrainingData({ events: join(dir, 'events.jsonl'), labels: join(dir, 'labels.csv') });
  return data.sessions.flatMap((s) => [s.final, ...s.prefixes]);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Per variant: median µs per view and stage over the rounds, and how its scores differ from the first variant's. */
async function measure(loaded: { name: string; core: ScoringCore }[], views: SessionView[]) {
  const spec = loaded[0]!.core.spec;
  // packed per round and variant: a worker receives the packed arrays and reads them in place
  const ticks = (): PackedViews[] => {
    const out: PackedViews[] = [];
    for (let i = 0; i < views.length; i += tick) out.push(packViews(views.slice(i, i + tick), spec));
    return out;
  };
  const scoreAll = async (core: ScoringCore, times: StageTimes): Promise<ScoredBatch[]> => {
    const out: ScoredBatch[] = [];
    for (const p of ticks()) out.push(await core.score(packedInput(p, spec), { times }));
    return out;
  };
  // warm-up (JIT, the wasm backend's kernels), and each variant's scores
  const results: ScoredBatch[][] = [];
  for (const v of loaded) results.push(await scoreAll(v.core, noStageTimes()));
  const perRound: StageTimes[][] = loaded.map(() => []);
  const cpuPerRound: number[][] = loaded.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = loaded.map((_, k) => k);
    for (const k of r % 2 === 0 ? order : order.reverse()) {
      globalThis.gc?.();
      const times = noStageTimes();
      const cpu = process.cpuUsage();
      await scoreAll(loaded[k]!.core, times);
      const used = process.cpuUsage(cpu);
      perRound[k]!.push(times);
      cpuPerRound[k]!.push((used.user + used.system) / views.length);
    }
  }
  const stages = Object.keys(noStageTimes()) as (keyof StageTimes)[];
  return loaded.map((v, k) => {
    const us: Record<string, number> = {};
    for (const s of stages) us[s] = round2(median(perRound[k]!.map((t) => (t[s] * 1000) / views.length)));
    us.total = round2(median(perRound[k]!.map((t) => (stages.reduce((a, s) => a + t[s], 0) * 1000) / views.length)));
    // against the first variant: views whose risk differs, and the largest difference
    let differ = 0;
    let maxRiskDiff = 0;
    let bandsDiffer = 0;
    results[k]!.forEach((b, t) => {
      const base = results[0]![t]!;
      for (let i = 0; i < b.n; i++) {
        const d = Math.abs(b.churnRisk[i]! - base.churnRisk[i]!);
        if (d > 0) differ++;
        if (d > maxRiskDiff) maxRiskDiff = d;
        if (b.band[i] !== base.band[i]) bandsDiffer++;
      }
    });
    return { variant: v.name, usPerView: us, cpuUsPerView: round2(median(cpuPerRound[k]!)), againstFirst: { riskDiffers: differ, bandDiffers: bandsDiffer, maxRiskDiff: Number(maxRiskDiff.toPrecision(3)) } };
  });
}

/** The open-loop producer's sessions, as history files: session s's k-th event has type s + k (mod types), page /p/(k mod 40), 1 s dwell; round robin over the sessions. */
function writeOpenLoopFiles(dir: string, count: number, eventsEach: number): void {
  mkdirSync(dir, { recursive: true });
  const types = defaultImageSpec.eventTypes;
  const lines: string[] = [];
  const t0 = Date.UTC(2026, 10, 1);
  for (let k = 0; k < eventsEach; k++) {
    for (let s = 0; s < count; s++) {
      const sessionId = `ol-s${s}`;
      lines.push(JSON.stringify({ eventId: `${sessionId}-e${k}`, sessionId, userId: `u${s}`, timestamp: t0 + (k * count + s) * 3, type: types[(s + k) % types.length], page: `/p/${k % 40}`, durationMs: 1000, value: null, properties: {} }));
    }
  }
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'labels.csv'), `userId,churned\n${Array.from({ length: count }, (_, s) => `u${s},${s % 2}`).join('\n')}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'jl-scoring-core-'));
try {
  await writeSimulationFiles({ sessions, seed: 5, outDir: join(work, 'generator') });
  writeOpenLoopFiles(join(work, 'open-loop'), quick ? 500 : 1500, 12);
  const workloads: { name: string; views: SessionView[] }[] = [];
  for (const name of ['generator', 'open-loop']) workloads.push({ name, views: await viewsOf(join(work, name)) });
  const loaded: { name: string; bundle: LoadedBundle; core: ScoringCore }[] = [];
  for (const v of variants) {
    const bundle = await loadBundle(bundleDir, { encoder: 'inline', ...(v.neighbourEf !== undefined ? { neighbourEf: v.neighbourEf } : {}) });
    loaded.push({ name: v.name, bundle, core: bundle.scorer.inlineCore() });
  }
  const report = [];
  for (const w of workloads) report.push({ workload: w.name, views: w.views.length, variants: await measure(loaded, w.views) });
  for (const v of loaded) await v.bundle.scorer.close();
  process.stdout.write(`${JSON.stringify({ bench: 'scoring-core', quick, sessions, tick, rounds, backend: loaded[0]!.bundle.backend, workloads: report })}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
