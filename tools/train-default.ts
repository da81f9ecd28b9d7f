// `npm run train:default`: the shipped bundle models/default/, from the project's own generator
// with fixed seeds: simulate 20,000 sessions into a temp dir, train 10 epochs, k-means (k by silhouette) in the
// cluster space (src/model/cluster-space.ts), write the bundle.
// Prints the training time and images/s (recorded in docs/model.md, "Default bundle").
//
//   npx tsx tools/train-default.ts [--out models/default] [--sessions 20000] [--encoder temporal]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrain } from '../src/commands/train.ts';
import { type EncoderKind } from '../src/model/encoder-model.ts';
import { writeSimulationFiles } from '../src/sim/files.ts';
import { DEFAULT_BUNDLE } from './default-recipe.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const out = arg('--out', join(import.meta.dirname, '..', 'models', 'default'));
const sessions = Number(arg('--sessions', String(DEFAULT_BUNDLE.sessions)));
const encoder = arg('--encoder', 'temporal') as EncoderKind;
const SIM_SEED = DEFAULT_BUNDLE.simSeed;
const TRAIN_SEED = DEFAULT_BUNDLE.trainSeed;

const dir = mkdtempSync(join(tmpdir(), 'journeylens-default-'));
try {
  process.stderr.write(`simulating ${sessions} sessions (seed ${SIM_SEED}) into ${dir}\n`);
  await writeSimulationFiles({ sessions, seed: SIM_SEED, outDir: dir });
  const t0 = performance.now();
  const report = await runTrain({
    events: join(dir, 'events.jsonl'),
    labels: join(dir, 'labels.csv'),
    out,
    seed: TRAIN_SEED,
    dim: DEFAULT_BUNDLE.dim,
    encoder,
    epochs: DEFAULT_BUNDLE.epochs,
    clusterer: 'kmeans',
  });
  const t = report.manifest.training;
  const result = {
    out,
    modelVersion: report.manifest.modelVersion,
    sessions: t.sessions,
    events: t.events,
    images: Number(t.trainImages) + Number(t.validationImages),
    backend: t.backend,
    epochsRun: t.epochsRun,
    encoderSeconds: t.encoderSeconds,
    imagesPerSecond: t.imagesPerSecond,
    totalTrainSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    metrics: report.manifest.metrics,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
