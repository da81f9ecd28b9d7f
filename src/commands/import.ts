import { type Command, Option } from 'commander';
import { importKddCup2015 } from '../sim/kdd.ts';
import { parseIntOption } from './parse.ts';

/** `journeylens import <dataset>`: real data into the events/labels/spec layout the trainer reads. */
export function registerImportCommand(program: Command): void {
  const imp = program.command('import').description('convert a public data set into events.jsonl + labels.csv (+ spec.json) for train/eval');

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
