// `journeylens eval`: quality of a bundle on labelled history, as one markdown table: churnRisk
// beside the fair and the counts baselines, calibration, and alerts at the risk setting. The
// training code (evaluation, baselines) is loaded when the command runs.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ErrorCodes, UserError } from '../errors.ts';
import { parseRiskSetting, RISK_SETTING_DEFAULT, RISK_SETTING_HELP } from '../contracts/risk.ts';
import { loadBundle } from '../model/bundle.ts';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type HistoryFlags, addHistoryOptions, churnAfterOption, openHistory } from './history-options.ts';
import { parseIntOption } from './parse.ts';

export interface EvalCommandOptions extends HistoryFlags {
  bundle: string;
  labels?: string;
  churnAfter?: number;
  out?: string;
  spec?: string;
  days?: number;
  baselineEvents?: string;
  baselineLabels?: string;
  risk?: string;
}

export function registerEvalCommand(program: Command): void {
  const cmd = program
    .command('eval')
    .description('evaluate a model bundle on labelled click events: churn ROC/PR AUC and Brier next to the fair baseline (counts + time facts) and a counts baseline, alert share/precision/recall at the risk setting, ARI vs archetypes')
    .requiredOption('--bundle <dir>', 'model bundle directory')
    .option('--labels <file>', 'labels.csv with the header "userId,churned"; or --churn-after')
    .addOption(churnAfterOption())
    .option('--out <file>', 'also write the table to this markdown file (e.g. docs/quality.md)')
    .option('--spec <file>', "spec.json for the events (default: beside --events, else the bundle's own); must match the bundle's image spec")
    .addOption(new Option('--days <n>', 'use only the first N days of the events (early warning)').argParser(parseIntOption('--days', 1, 10_000)))
    .option('--baseline-events <file>', "train the baselines on these events (the bundle's training data); default: 5-fold CV on --events")
    .option('--baseline-labels <file>', 'labels for --baseline-events')
    .option('--risk <bands>', `${RISK_SETTING_HELP} (as \`run --risk\`)`, RISK_SETTING_DEFAULT);
  addHistoryOptions(cmd, 'the labelled history (archetypes.csv beside a file adds the ARI)');
  cmd.action(async (opts: EvalCommandOptions) => {
      const table = await runEval(opts);
      process.stdout.write(`${table}\n`);
    });
}

export async function runEval(opts: EvalCommandOptions): Promise<string> {
  if ((opts.baselineEvents === undefined) !== (opts.baselineLabels === undefined)) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, 'eval: give --baseline-events and --baseline-labels together (or neither, for a cross-validated baseline).', { exitCode: 2 });
  }
  const risk = parseRiskSetting(opts.risk ?? RISK_SETTING_DEFAULT, '--risk');
  const { evaluateBundle, formatEvalTable, loadTrainingData } = await import('../training/index.ts');
  const horizon = opts.days !== undefined ? { horizonMs: opts.days * 86_400_000 } : {};
  const bundle = await loadBundle(opts.bundle, { encoder: 'inline', risk });
  try {
    const history = await openHistory(opts);
    // Without a spec of their own the events are drawn as the bundle draws them.
    const ownSpec = opts.spec !== undefined || (opts.events !== undefined && existsSync(join(dirname(opts.events), 'spec.json')));
    const spec = ownSpec ? (opts.spec !== undefined ? { spec: opts.spec } : {}) : { dataSpec: { image: bundle.imageSpec, sessionization: bundle.sessionization } };
    const labels = { ...(opts.labels !== undefined ? { labels: opts.labels } : {}), ...(opts.churnAfter !== undefined ? { churnAfterMs: opts.churnAfter } : {}) };
    if (labels.labels === undefined && labels.churnAfterMs === undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, 'eval needs labels: --labels FILE, or --churn-after 14d to derive them from the history.', { exitCode: 2 });
    const data = await loadTrainingData({ source: history.source, ingestion: history.ingestion, ...labels, ...spec, ...horizon });
    if (JSON.stringify(data.spec.image) !== JSON.stringify(bundle.imageSpec)) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, `eval: the image spec of ${history.label} (spec.json beside it, or --spec) differs from the bundle's; evaluate data of the kind the bundle was trained on.`, { exitCode: 2 });
    }
    const baselineTrain =
      opts.baselineEvents !== undefined ? await loadTrainingData({ events: opts.baselineEvents, ingestion: history.ingestion, labels: opts.baselineLabels!, ...(ownSpec ? {} : spec), ...horizon }) : undefined;
    const result = await evaluateBundle(bundle, data, { risk, ...(baselineTrain ? { baselineTrain } : {}) });
    const table = formatEvalTable(result, `${opts.bundle} on ${history.label}${opts.days !== undefined ? `, first ${opts.days} days` : ''}`);
    if (opts.out !== undefined) writeFileSync(opts.out, `# Model quality\n\n${table}\n`);
    return table;
  } finally {
    await bundle.scorer.close();
  }
}
