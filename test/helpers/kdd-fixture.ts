// A small data set in the KDD Cup 2015 layout, written by the tests themselves: the tests never
// read the real data (a fresh clone does not have it). Two course files (645, 1038) with 30 daily
// rows per enrollment over the course's window, every enrollment labelled (as in the real
// training files), and some with no activity at all. Learners who stop early drop out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KDD_COURSE_HEADER, KDD_EVENT_TYPES, KDD_LABELS_HEADER } from '../../src/sim/kdd.ts';
import { Rng } from '../../src/util/prng.ts';

const DAY = 86_400_000;

export function writeKddFixture(dir: string, enrollmentsPerCourse = 24): void {
  const rng = new Rng(2015);
  const labels = [KDD_LABELS_HEADER];
  let id = 100;
  for (const course of ['645', '1038']) {
    // A course runs over one 30-day window shared by its enrollments, as in the real files.
    const start = course === '645' ? Date.UTC(2014, 4, 28) : Date.UTC(2014, 4, 25);
    const rows = [KDD_COURSE_HEADER];
    for (let e = 0; e < enrollmentsPerCourse; e++) {
      const enrollment = String(id++);
      const inactive = e % 11 === 5;
      const activeDays = rng.int(1, 30);
      for (let d = 0; d < 30; d++) {
        const day = new Date(start + d * DAY).toISOString().slice(0, 10);
        const active = !inactive && d < activeDays && rng.next() < 0.6;
        const counts = KDD_EVENT_TYPES.map(() => (active && rng.next() < 0.5 ? rng.int(0, 12) : 0));
        rows.push(`${enrollment},${day},${counts.join(',')}`);
      }
      labels.push(`${enrollment},${activeDays < 15 ? 1 : 0}`);
    }
    writeFileSync(join(dir, `trainCourse${course}.csv`), `${rows.join('\n')}\n`);
  }
  writeFileSync(join(dir, 'truth_train.csv'), `${labels.join('\n')}\n`);
}
