import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type Command, Option } from 'commander';
import { emptyCounts, readHistory, summarizeCounts } from '../history/history-source.ts';
import { type HistoryFlags, addHistoryOptions, openHistory } from './history-options.ts';
import { importKddCup2015 } from '../sim/kdd.ts';
import { parseIntOption } from './parse.ts';

/** `journeylens import <dataset>`: real data into the events/labels/spec layout the trainer reads. */
export function registerImportCommand(program: Command): void {
  const imp = program.command('import').description('convert your own records (import events) or a public data set (import kddcup2015) into the events.jsonl layout for train/eval/render');

  const events = imp
    .command('events')
    .description(
      'read your own records (a JSON Lines or Avro file, or a Kafka topic between --from and --until) through the ingestion config of --config, exactly as `run` reads them, ' +
        'and write them as ClickEvents to DIR/events.jsonl; records without consent and unusable ones are left out and counted on stderr',
    )
    .requiredOption('--out <dir>', 'output directory (events.jsonl is written there)');
  addHistoryOptions(events, 'the records to import');
  events.action(async (opts: HistoryFlags & { out: string }) => {
    const history = await openHistory(opts);
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, 'events.jsonl');
    const out = createWriteStream(file);
    const counts = emptyCounts();
    for await (const { event } of readHistory(history.source, history.ingestion, counts)) {
      if (!out.write(`${JSON.stringify(event)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
    process.stdout.write(`${history.label}: ${summarizeCounts(counts)}\nwrote ${file}\n`);
  });

  imp
    .command('kddcup2015')
    .description(
      'expand KDD Cup 2015 daily activity counts into click events (enrollment = user = session, one 30-day journey each). ' +
        'Writes DIR/events.jsonl ordered by event time, DIR/labels.csv (userId,churned; 1 = dropout) and DIR/spec.json. ' +
        'Enrollments missing from --labels are skipped and counted on stderr, as are enrollments with no activity.',
    )
    .requiredOption('--course <file>', 'a trainCourse*.csv file (enrollment_id,time,event_access,...)')
    .requiredOption('--labels <file>', 'truth_train.csv (enrollment_id,label)')
    .requiredOption('--out <dir>', 'output directory')
    .addOption(new Option('--seed <n>', 'seed for the timestamps within each day').argParser(parseIntOption('--seed', 0, 0xffffffff)).default(1))
    .action(async (opts: { course: string; labels: string; out: string; seed: number }) => {
      const r = await importKddCup2015({ courseFile: opts.course, labelsFile: opts.labels, outDir: opts.out, seed: opts.seed });
      if (r.skippedUnlabelled > 0) {
        process.stderr.write(`warning: ${r.skippedUnlabelled} of ${r.enrollments} enrollments in ${opts.course} have no label in ${opts.labels}; they were skipped.\n`);
      }
      if (r.skippedInactive > 0) {
        process.stderr.write(`warning: ${r.skippedInactive} labelled enrollments had no activity in the window (no events, so no journey); they were skipped.\n`);
      }
      process.stdout.write(
        `course ${r.course}: ${r.imported} enrollments, ${r.events} events over ${r.days} days (${r.firstDay ?? '-'} .. ${r.lastDay ?? '-'}), dropout rate ${(100 * r.churnRate).toFixed(1)}%\n` +
          `wrote ${opts.out}/events.jsonl, labels.csv, spec.json\n`,
      );
    });
}
