// The scoring worker's cost per scored view, stage by stage, without Kafka or threads: the
// scoring core (src/model/scoring-core.ts, what a scoring worker runs) on packed ticks of
// generator sessions (final and prefix states of `journeylens simulate` sessions), the shipped
// bundle loaded inline once per variant. Variants differ in the neighbours search: the exact
// search (the default) and hnswlib at the bundle's ef 64 and at 25. Rounds alternate the
// variants, so each is measured beside the others under the same load; the figures are the
// median over rounds of µs per view. It also says how many views score differently than under
// the first variant (and by how much).
//
//   node --expose-gc --import tsx bench/scoring-core.ts [--quick] [--tick N] [--variants exact,64,25]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../src/model/bundle.ts';
import { noStageTimes, type ScoredBatch, type ScoringCore, type StageTimes } from '../src/model/scoring-core.ts';
import { type LoadedBundle } from '../src/model/bundle.ts';
import { packedInput, packViews } from '../src/model/view-batch.ts';
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

const work = mkdtempSync(join(tmpdir(), 'jl-scoring-core-'));
try {
  await writeSimulationFiles({ sessions, seed: 5, outDir: work });
  const data = await loadTrainingData({ events: join(work, 'events.jsonl'), labels: join(work, 'labels.csv') });
  const views = data.sessions.flatMap((s) => [s.final, ...s.prefixes]);
  const loaded: { name: string; bundle: LoadedBundle; core: ScoringCore; perRound: StageTimes[] }[] = [];
  for (const v of variants) {
    const bundle = await loadBundle(bundleDir, { encoder: 'inline', ...(v.neighbourEf !== undefined ? { neighbourEf: v.neighbourEf } : {}) });
    loaded.push({ name: v.name, bundle, core: bundle.scorer.inlineCore(), perRound: [] });
  }
  const spec = loaded[0]!.core.spec;
  // packed once per round and variant: the worker receives the packed arrays and reads them in place
  const ticks = (): ReturnType<typeof packViews>[] => {
    const out = [];
    for (let i = 0; i < views.length; i += tick) out.push(packViews(views.slice(i, i + tick), spec));
    return out;
  };
  const scoreAll = async (core: ScoringCore, times: StageTimes): Promise<ScoredBatch[]> => {
    const out: ScoredBatch[] = [];
    for (const p of ticks()) out.push(await core.score(packedInput(p, spec), { times }));
    return out;
  };
  // warm-up (JIT, the exact search's tree, the wasm backend's kernels), and each variant's scores
  const results: ScoredBatch[][] = [];
  for (const v of loaded) results.push(await scoreAll(v.core, noStageTimes()));
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? loaded : [...loaded].reverse()) {
      globalThis.gc?.();
      const times = noStageTimes();
      await scoreAll(v.core, times);
      v.perRound.push(times);
    }
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const stages = Object.keys(noStageTimes()) as (keyof StageTimes)[];
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  const report = loaded.map((v, k) => {
    const us: Record<string, number> = {};
    for (const s of stages) us[s] = round2(median(v.perRound.map((t) => (t[s] * 1000) / views.length)));
    us.total = round2(median(v.perRound.map((t) => (stages.reduce((a, s) => a + t[s], 0) * 1000) / views.length)));
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
    return { variant: v.name, usPerView: us, againstFirst: { views: views.length, riskDiffers: differ, bandDiffers: bandsDiffer, maxRiskDiff: Number(maxRiskDiff.toPrecision(3)) } };
  });
  for (const v of loaded) await v.bundle.scorer.close();
  process.stdout.write(`${JSON.stringify({ bench: 'scoring-core', quick, sessions, views: views.length, tick, rounds, backend: loaded[0]!.bundle.backend, variants: report })}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
