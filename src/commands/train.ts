// `journeylens train`: history (a file or a topic, read through the user's ingestion config) and
// labels (a file, or derived with --churn-after) → a verified model bundle directory. The
// training code is loaded when the command runs, so other commands (`run`) never load it.
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { ENCODER_KINDS, type EncoderKind } from '../model/encoder-model.ts';
import { READOUT_RECIPES, type ReadoutRecipe, trainerDefaults } from '../training/options.ts';
import type { TrainReport } from '../training/trainer.ts';
import { type HistoryFlags, addHistoryOptions, churnAfterOption, openHistory } from './history-options.ts';
import { parseIntOption } from './parse.ts';

export interface TrainCommandOptions extends HistoryFlags {
  labels?: string;
  churnAfter?: number;
  out: string;
  spec?: string;
  seed: number;
  dim: number;
  encoder: EncoderKind;
  epochs: number;
  clusterer: 'hdbscan' | 'kmeans';
  k?: number;
  minClusterSize?: number;
  readout?: ReadoutRecipe | 'auto';
  progress?: boolean;
}

export function registerTrainCommand(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a model bundle (encoder, clusters, HNSW indexes, churn readout, manifest) from click events and churn labels')
    .option('--labels <file>', 'labels.csv with the header "userId,churned" (1 = churned); or --churn-after')
    .addOption(churnAfterOption())
    .requiredOption('--out <dir>', 'bundle directory to write (its previous files are replaced)')
    .option('--spec <file>', 'spec.json with the image and sessionization spec (default: spec.json beside --events, else the built-in defaults)')
    .addOption(new Option('--seed <n>', 'seed for every random choice: same data + seed give the same bundle').argParser(parseIntOption('--seed', 0, 0xffffffff)).default(trainerDefaults.seed))
    .addOption(new Option('--dim <n>', 'embedding dimension').argParser(parseIntOption('--dim', 2, 256)).default(trainerDefaults.dim))
    .addOption(new Option('--encoder <kind>', 'encoder architecture').choices([...ENCODER_KINDS]).default(trainerDefaults.encoder))
    .addOption(new Option('--epochs <n>', 'most training epochs (early stopping may end sooner)').argParser(parseIntOption('--epochs', 1, 10_000)).default(trainerDefaults.epochs))
    .addOption(new Option('--clusterer <name>', 'clustering of the sessions (in the cluster space: image shares, length, optionally the embedding; see docs/quality.md)').choices(['hdbscan', 'kmeans']).default(trainerDefaults.clusterer))
    .addOption(new Option('--k <n>', 'clusters for --clusterer kmeans (default: the k among 4–10 with the best silhouette)').argParser(parseIntOption('--k', 1, 10_000)))
    .addOption(new Option('--min-cluster-size <n>', 'HDBSCAN smallest cluster (default: 1% of the sessions HDBSCAN samples, at most 5,000; at least 10)').argParser(parseIntOption('--min-cluster-size', 2, 1_000_000)))
    .addOption(
      new Option('--readout <recipe>', "churn readout: 'summary' (embedding + summary and window features, the embedding penalised apart), 'embedding' (the readout before issue 19), 'auto': summary for bucketed images, embedding for step images (docs/model.md)")
        .choices(['auto', ...READOUT_RECIPES])
        .default(trainerDefaults.readout),
    )
    .option('--no-progress', 'no progress bar');
  addHistoryOptions(cmd, 'the history to train on (event-time order within a partition)');
  cmd.action(async (opts: TrainCommandOptions) => {
      const report = await runTrain(opts);
      const t = report.manifest.training;
      const m = report.manifest.metrics;
      process.stderr.write(
        `wrote ${report.dir}: model ${report.manifest.modelVersion}, ${String(t.sessions)} sessions, ${report.clusters.length} clusters, ` +
          `${String(t.trainSeconds)} s (encoder ${String(t.encoderSeconds)} s, ${String(t.imagesPerSecond)} images/s on ${String(t.backend)}), ` +
          `val loss ${Number(m.valLoss).toFixed(4)}, in-sample AUC ${m.inSampleAuc === null ? 'n/a' : Number(m.inSampleAuc).toFixed(3)}` +
          `${m.ari === null ? '' : `, ARI vs archetypes ${Number(m.ari).toFixed(3)}`}\n`,
      );
      for (const c of report.clusters) process.stderr.write(`  cluster ${c.id}: ${c.label} (${c.size} sessions, churn ${(c.churnRate * 100).toFixed(1)}%)\n`);
      const { clusterWarnings } = await import('../training/index.ts');
      for (const w of clusterWarnings(report.clusters, Number(report.manifest.training.labelRate))) process.stderr.write(`warning: ${w}\n`);
    });
}

export async function runTrain(opts: TrainCommandOptions): Promise<TrainReport> {
  const log = (m: string): void => {
    process.stderr.write(`${m}\n`);
  };
  const showBar = opts.progress !== false && process.stderr.isTTY;
  const { loadTrainingData, trainBundle, dataWarnings, describeTrainingData } = await import('../training/index.ts');
  const history = await openHistory(opts);
  log(`reading ${history.label}`);
  const data = await loadTrainingData({
    source: history.source,
    ingestion: history.ingestion,
    ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
    ...(opts.churnAfter !== undefined ? { churnAfterMs: opts.churnAfter } : {}),
    ...(opts.spec !== undefined ? { spec: opts.spec } : {}),
  });
  for (const line of describeTrainingData(data)) log(line);
  for (const w of dataWarnings(data)) log(`warning: ${w}`);
  const bar = new cliProgress.SingleBar(
    { format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | val {val} | {ips} images/s', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let lastEpochLog = 0;
  try {
    return await trainBundle(data, opts.out, {
      seed: opts.seed,
      dim: opts.dim,
      encoder: opts.encoder,
      epochs: opts.epochs,
      clusterer: opts.clusterer,
      ...(opts.k !== undefined ? { k: opts.k } : {}),
      ...(opts.minClusterSize !== undefined ? { minClusterSize: opts.minClusterSize } : {}),
      ...(opts.readout !== undefined ? { readout: opts.readout } : {}),
      onStage: (m) => {
        if (started) bar.stop();
        started = false;
        log(m);
      },
      onTrainProgress: (p) => {
        const payload = { epoch: p.epoch, epochs: p.epochs, loss: p.loss.toFixed(4), val: Number.isNaN(p.valLoss) ? '-' : p.valLoss.toFixed(4), ips: Math.round(p.imagesPerSecond) };
        const total = p.epochs * p.batches;
        const value = (p.epoch - 1) * p.batches + p.batch;
        if (showBar) {
          if (!started) {
            bar.start(total, value, payload);
            started = true;
          } else bar.update(value, payload);
        } else if (p.phase === 'epoch' && p.epoch !== lastEpochLog) {
          lastEpochLog = p.epoch;
          log(`epoch ${payload.epoch}/${payload.epochs}: loss ${payload.loss}, val loss ${payload.val}, ${payload.ips} images/s`);
        }
      },
    });
  } finally {
    if (started) bar.stop();
  }
}
