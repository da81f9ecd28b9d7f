// Chooses the churn readout's recipe without looking at any evaluation split (issue 19): per
// training set (the KDD splits' training sessions, and a generator population for the steps-mode
// default bundle) one bundle is trained, its readout rows are kept (trainer `onReadoutRows`), and
// each recipe is scored by nested grouped cross-validation on those rows only: 3 outer folds over
// sessions; inside each, the recipe fits as the trainer would (its own grouped CV for the
// penalty, Platt on out-of-fold logits) and scores the held-out sessions. Test sessions are
// never loaded.
//
//   npx tsx tools/readout-cv.ts --data DIR [--courses 645,1038] [--epochs 20] [--generator 5000] [--recipes R0,R9,R9g,R2]
//
// Recipes (feature sets of readout-row.ts; penalties of readout-fit.ts choosePenalty):
//   R0  today's readout: embedding, cluster and kNN rates, quiet/age, image column means; one L2
//   R9  R0 + the summary and window features; one L2 (exp19's best by test AUC)
//   R9g R9 with the embedding group penalised apart (multiplier 1/10/100/1000 chosen by CV)
//   R2  quiet/age + summary and window features only (no embedding group); one L2
//   R0g R0 with the embedding group penalised apart
//   R9gw R9g with penalties up to 10,000; R9gmin / R9min: R9g / R9 taking the lowest held-out loss (no one-SE rule)
//   T   gradient-boosted trees (tools/readout-trees.ts) on every feature; Ts on the summary group only
//   TB / TsB  the mean of R9g's and T's (Ts's) calibrated risks
//   R9gB R9g bagged: the mean risk of 10 fits on bootstrap samples of sessions, each at R9g's penalties
// Prints one JSON line per training set and recipe, then a table of means.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictLogisticBatch } from '../src/model/readout.ts';
import { readoutFeatureGroup } from '../src/model/readout-row.ts';
import { type ReadoutRows, type TrainingData, fitReadout, readoutGroupMultipliers, rocAuc, trainBundle } from '../src/training/index.ts';
import { seededPermutation, seededRandom } from '../src/util/prng.ts';
import { generatorTrainingData, importCourses, kddFilesOrExit, kddSplits } from './kdd-splits.ts';
import { fitBoostedCv } from './readout-trees.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SEED = 42;
const epochs = Number(arg('--epochs', '20'));
const generatorSessions = Number(arg('--generator', '5000'));
const recipeNames = arg('--recipes', 'R0,R9,R9g,R2').split(',');
const courses = arg('--courses', '645,1038').split(',');
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Recipe {
  keep: (name: string) => boolean;
  multipliers: readonly number[];
  candidates?: readonly number[];
  rule?: 'one-se' | 'min';
  /** Boosted trees on the kept features instead of the logistic readout; 'blend': the mean of both risks (logistic on every feature). */
  trees?: 'only' | 'blend';
  /** Bagging: the mean risk of this many logistic fits on bootstrap samples of sessions, at the penalties chosen on all of them. */
  bags?: number;
}
const wide = [1, 3, 10, 30, 100, 300, 1000, 3000, 10_000];
const isSummaryOnly = (n: string) => /^(s:|win\d+x\d+:|head\d+:)/.test(n);
const recipes: Record<string, Recipe> = {
  R0: { keep: (n) => !isSummaryOnly(n), multipliers: [1] },
  R9: { keep: () => true, multipliers: [1] },
  R9g: { keep: () => true, multipliers: readoutGroupMultipliers },
  R2: { keep: (n) => readoutFeatureGroup(n) === 'summary', multipliers: [1] },
  R0g: { keep: (n) => !isSummaryOnly(n), multipliers: readoutGroupMultipliers },
  // the penalty grid past 1000 (the one-SE rule chose its edge), and the best-loss rule
  R9gw: { keep: () => true, multipliers: readoutGroupMultipliers, candidates: wide },
  R9gmin: { keep: () => true, multipliers: readoutGroupMultipliers, rule: 'min' },
  R9min: { keep: () => true, multipliers: [1], rule: 'min' },
  T: { keep: () => true, multipliers: readoutGroupMultipliers, trees: 'only' },
  Ts: { keep: (n) => readoutFeatureGroup(n) === 'summary', multipliers: readoutGroupMultipliers, trees: 'only' },
  TB: { keep: () => true, multipliers: readoutGroupMultipliers, trees: 'blend' },
  TsB: { keep: (n) => readoutFeatureGroup(n) === 'summary', multipliers: readoutGroupMultipliers, trees: 'blend' },
  R9gB: { keep: () => true, multipliers: readoutGroupMultipliers, bags: 10 },
};

interface Scored {
  set: string;
  recipe: string;
  finals: number;
  aucFinal: number;
  aucPrefix: number;
  logLossFinal: number;
  brierFinal: number;
  /** Chosen penalties per outer fold. */
  penalties: string[];
}

function nestedCv(set: string, rows: ReadoutRows, name: string, recipe: Recipe): Scored {
  const cols = rows.featureNames.map((n, j) => (recipe.keep(n) || recipe.trees === 'blend' ? j : -1)).filter((j) => j >= 0);
  const names = cols.map((j) => rows.featureNames[j]!);
  const x = rows.xs.map((r) => cols.map((j) => r[j]!));
  // the trees' columns within x (blends keep every column for the logistic part)
  const treeCols = names.map((n, j) => (recipe.keep(n) ? j : -1)).filter((j) => j >= 0);
  const sessions = [...new Set(rows.groups)].sort((a, b) => a - b);
  const perm = seededPermutation(sessions.length, seededRandom(7));
  const foldOf = new Map<number, number>();
  perm.forEach((g, k) => foldOf.set(sessions[g]!, k % 3));
  const oof = new Float64Array(x.length);
  const penalties: string[] = [];
  for (let f = 0; f < 3; f++) {
    const tr = x.map((_, i) => i).filter((i) => foldOf.get(rows.groups[i]!) !== f);
    const te = x.map((_, i) => i).filter((i) => foldOf.get(rows.groups[i]!) === f);
    let logistic: Float64Array | undefined;
    if (recipe.trees !== 'only') {
      const { model } = fitReadout(
        tr.map((i) => x[i]!),
        tr.map((i) => rows.ys[i]!),
        tr.map((i) => rows.groups[i]!),
        tr.map((i) => rows.isFinal[i]!),
        { featureNames: names, seed: SEED, multipliers: recipe.multipliers, ...(recipe.candidates ? { candidates: recipe.candidates } : {}), ...(recipe.rule ? { rule: recipe.rule } : {}) },
      );
      penalties.push(model.penalties ? Object.entries(model.penalties).map(([g, v]) => `${g} ${v}`).join('/') : String(model.l2));
      logistic = predictLogisticBatch(model, te.map((i) => x[i]!));
      if (recipe.bags) {
        // sessions drawn with replacement; a session drawn twice keeps one group id, so its copies share a fold
        const trSessions = [...new Set(tr.map((i) => rows.groups[i]!))];
        const rowsOf = new Map<number, number[]>();
        for (const i of tr) rowsOf.set(rows.groups[i]!, [...(rowsOf.get(rows.groups[i]!) ?? []), i]);
        const random = seededRandom(SEED + f);
        const sum = new Float64Array(te.length);
        const multiplier = model.penalties ? model.penalties.embedding! / model.penalties.summary! : 1;
        for (let b = 0; b < recipe.bags; b++) {
          const picked = Array.from({ length: trSessions.length }, () => trSessions[Math.floor(random() * trSessions.length)]!).flatMap((g) => rowsOf.get(g)!);
          const bag = fitReadout(
            picked.map((i) => x[i]!),
            picked.map((i) => rows.ys[i]!),
            picked.map((i) => rows.groups[i]!),
            picked.map((i) => rows.isFinal[i]!),
            { featureNames: names, seed: SEED + b, candidates: [model.l2], multipliers: [multiplier] },
          ).model;
          predictLogisticBatch(bag, te.map((i) => x[i]!)).forEach((v, k) => (sum[k]! += v / recipe.bags!));
        }
        logistic = sum;
        penalties.push(`${recipe.bags} bags`);
      }
    }
    let boosted: number[] | undefined;
    if (recipe.trees) {
      const pick = (i: number) => treeCols.map((j) => x[i]![j]!);
      const t = fitBoostedCv(tr.map(pick), tr.map((i) => rows.ys[i]!), tr.map((i) => rows.groups[i]!));
      penalties.push(`${t.trees} trees`);
      boosted = te.map((i) => t.predict(pick(i)));
    }
    te.forEach((i, k) => (oof[i] = logistic && boosted ? (logistic[k]! + boosted[k]!) / 2 : (logistic?.[k] ?? boosted![k]!)));
  }
  const fin = x.map((_, i) => i).filter((i) => rows.isFinal[i]);
  const pre = x.map((_, i) => i).filter((i) => !rows.isFinal[i]);
  const y = (idx: number[]) => idx.map((i) => rows.ys[i]!);
  const p = (idx: number[]) => idx.map((i) => Math.min(1 - 1e-12, Math.max(1e-12, oof[i]!)));
  const yf = y(fin);
  const pf = p(fin);
  return {
    set,
    recipe: name,
    finals: fin.length,
    aucFinal: rocAuc(yf, pf),
    aucPrefix: pre.length > 0 ? rocAuc(y(pre), p(pre)) : Number.NaN,
    logLossFinal: yf.reduce((a, v, k) => a - Math.log(v === 1 ? pf[k]! : 1 - pf[k]!), 0) / yf.length,
    brierFinal: yf.reduce((a, v, k) => a + (pf[k]! - v) ** 2, 0) / yf.length,
    penalties,
  };
}

const work = mkdtempSync(join(tmpdir(), 'journeylens-readout-cv-'));
const results: Scored[] = [];
try {
  const sets: { name: string; load: () => Promise<TrainingData>; epochs: number }[] = [];
  if (process.argv.includes('--data')) {
    const files = kddFilesOrExit('readout-cv', arg('--data', ''), courses);
    for (const s of kddSplits(await importCourses(files, work), SEED)) sets.push({ name: s.name, load: () => s.trainFor(), epochs });
  }
  if (generatorSessions > 0) {
    sets.push({ name: `generator${generatorSessions}`, load: () => generatorTrainingData(generatorSessions, 2026, join(work, 'sim')), epochs: 10 });
  }
  for (const set of sets) {
    const data = await set.load();
    let rows: ReadoutRows | undefined;
    const t0 = performance.now();
    await trainBundle(data, join(work, `bundle-${set.name}`), { seed: SEED, epochs: set.epochs, readout: 'summary', onReadoutRows: (r) => (rows = r) });
    log(`${set.name}: bundle trained in ${((performance.now() - t0) / 1000).toFixed(0)} s, ${rows!.xs.length} readout rows, ${rows!.featureNames.length} features`);
    for (const name of recipeNames) {
      const t1 = performance.now();
      const r = nestedCv(set.name, rows!, name, recipes[name]!);
      results.push(r);
      process.stdout.write(`${JSON.stringify({ ...r, seconds: Number(((performance.now() - t1) / 1000).toFixed(1)) })}\n`);
    }
  }
  const f = (v: number) => v.toFixed(4);
  process.stdout.write(`\n| recipe | ${[...new Set(results.map((r) => r.set))].join(' | ')} | mean final AUC | mean prefix AUC | mean final log loss |\n`);
  for (const name of recipeNames) {
    const rs = results.filter((r) => r.recipe === name);
    const mean = (k: 'aucFinal' | 'aucPrefix' | 'logLossFinal') => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    process.stdout.write(`| ${name} | ${rs.map((r) => `${f(r.aucFinal)} / ${f(r.logLossFinal)}`).join(' | ')} | ${f(mean('aucFinal'))} | ${f(mean('aucPrefix'))} | ${f(mean('logLossFinal'))} |\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
