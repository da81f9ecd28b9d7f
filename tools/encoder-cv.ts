// Chooses the encoder's training recipe without looking at any evaluation split (issue 19): the
// plain autoencoder against the autoencoder with a supervised churn head (trainer `churnWeight`),
// by grouped cross-validation on TRAINING sessions only. Per training set and outer fold (3, over
// sessions, seeded) a whole bundle is trained on the other folds' sessions, its encoder included
// (a supervised encoder has seen its training labels, so its embedding must be scored on
// sessions it never saw), and the held-out sessions are scored by `evaluateBundle` beside the
// fair baseline fitted on the same training folds. Test sessions are never loaded.
//
//   npx tsx tools/encoder-cv.ts --data DIR [--courses 645,1038] [--epochs 20] [--weights 0,0.01,0.1] [--readout auto]
//   npx tsx tools/encoder-cv.ts --generator 5000 [--generator-epochs 10] [--weights …]
//
// The KDD training sets are each course's whole enrollments (the training sets of the b splits;
// the a splits train on 70 % of the same). Prints one JSON line per set, weight and fold, then a
// table of means over folds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../src/model/bundle.ts';
import { type TrainingData, evaluateBundle, loadTrainingData, trainBundle } from '../src/training/index.ts';
import { seededPermutation, seededRandom } from '../src/util/prng.ts';
import { type ReadoutRecipe } from '../src/training/options.ts';
import { generatorTrainingData, importCourses, kddFilesOrExit } from './kdd-splits.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SEED = 42;
const FOLDS = 3;
const epochs = Number(arg('--epochs', '20'));
const weights = arg('--weights', '0,0.01,0.1').split(',').map(Number);
const generatorSessions = Number(arg('--generator', '0'));
const generatorEpochs = Number(arg('--generator-epochs', '10'));
const courses = arg('--courses', '645,1038').split(',');
const readout = arg('--readout', 'auto') as ReadoutRecipe | 'auto';
const log = (m: string) => process.stderr.write(`${m}\n`);

interface FoldScore {
  set: string;
  weight: number;
  fold: number;
  sessions: number;
  aucFinal: number;
  aucHalfway: number | null;
  brier: number;
  /** The labelled neighbours' churn rate alone: how much churn the embedding itself carries. */
  knnAuc: number | null;
  fairAuc: number;
  fairBrier: number;
  seconds: number;
}

/** The same data with only the sessions at `idx` (labels, spec and counts as loaded). */
function subset(data: TrainingData, idx: readonly number[]): TrainingData {
  const sessions = idx.map((i) => data.sessions[i]!);
  return { ...data, sessions, labelRate: sessions.filter((s) => !Number.isNaN(s.label)).length / Math.max(1, sessions.length) };
}

if (!process.argv.includes('--data') && !(generatorSessions > 0)) {
  log('encoder-cv: nothing to compare: give --data DIR (the KDD Cup 2015 files) and/or --generator N (sessions of the generator)');
  process.exit(2);
}
if (weights.some((w) => !(w >= 0))) {
  log(`encoder-cv: --weights must be numbers ≥ 0, comma-separated (got '${arg('--weights', '')}')`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'journeylens-encoder-cv-'));
const results: FoldScore[] = [];
try {
  const sets: { name: string; load: () => Promise<TrainingData>; epochs: number }[] = [];
  if (process.argv.includes('--data')) {
    const files = kddFilesOrExit('encoder-cv', arg('--data', ''), courses);
    for (const c of await importCourses(files, work)) {
      sets.push({ name: `kdd${c.course}`, load: () => loadTrainingData({ events: join(c.dir, 'events.jsonl'), labels: join(c.dir, 'labels.csv') }), epochs });
    }
  }
  if (generatorSessions > 0) {
    sets.push({ name: `generator${generatorSessions}`, load: () => generatorTrainingData(generatorSessions, 2026, join(work, 'sim')), epochs: generatorEpochs });
  }
  for (const set of sets) {
    const data = await set.load();
    const perm = seededPermutation(data.sessions.length, seededRandom(7));
    const foldOf = new Int32Array(data.sessions.length);
    perm.forEach((i, r) => (foldOf[i] = r % FOLDS));
    for (let f = 0; f < FOLDS; f++) {
      const train = subset(data, data.sessions.map((_, i) => i).filter((i) => foldOf[i] !== f));
      const test = subset(data, data.sessions.map((_, i) => i).filter((i) => foldOf[i] === f));
      for (const weight of weights) {
        const t0 = performance.now();
        const dir = join(work, `bundle-${set.name}-${f}-${weight}`);
        await trainBundle(train, dir, { seed: SEED, epochs: set.epochs, readout, churnWeight: weight });
        const bundle = await loadBundle(dir, { encoder: 'inline' });
        try {
          const r = await evaluateBundle(bundle, test, { baselineTrain: train, seed: SEED });
          const score: FoldScore = {
            set: set.name,
            weight,
            fold: f,
            sessions: r.labelled,
            aucFinal: r.churnRisk.rocAuc,
            aucHalfway: r.churnRiskHalfway?.rocAuc ?? null,
            brier: r.churnRisk.brier,
            knnAuc: r.knnRate?.rocAuc ?? null,
            fairAuc: r.fairBaseline.rocAuc,
            fairBrier: r.fairBaseline.brier,
            seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
          };
          results.push(score);
          process.stdout.write(`${JSON.stringify(score)}\n`);
        } finally {
          await bundle.scorer.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
  const f = (v: number) => v.toFixed(4);
  const setNames = [...new Set(results.map((r) => r.set))];
  const mean = (rs: FoldScore[], get: (r: FoldScore) => number) => rs.reduce((a, r) => a + get(r), 0) / rs.length;
  process.stdout.write(`\nHeld-out ROC AUC of churnRisk (final) / − fair baseline / Brier / halfway AUC / kNN-rate AUC, mean over ${FOLDS} folds\n`);
  process.stdout.write(`| churn weight | ${setNames.join(' | ')} | mean margin |\n`);
  for (const w of weights) {
    const cells = setNames.map((s) => {
      const rs = results.filter((r) => r.set === s && r.weight === w);
      return `${f(mean(rs, (r) => r.aucFinal))} / ${(mean(rs, (r) => r.aucFinal - r.fairAuc) >= 0 ? '+' : '')}${f(mean(rs, (r) => r.aucFinal - r.fairAuc))} / ${f(mean(rs, (r) => r.brier))} / ${f(mean(rs, (r) => r.aucHalfway ?? Number.NaN))} / ${f(mean(rs, (r) => r.knnAuc ?? Number.NaN))}`;
    });
    const all = results.filter((r) => r.weight === w);
    process.stdout.write(`| ${w} | ${cells.join(' | ')} | ${f(mean(all, (r) => r.aucFinal - r.fairAuc))} |\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
