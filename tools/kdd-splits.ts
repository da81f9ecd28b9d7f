// The KDD Cup 2015 evaluation splits, one definition for eval:kdd (tools/eval-kdd.ts) and the
// recipe selections by cross-validation on training data (tools/readout-cv.ts, tools/encoder-cv.ts):
//  (a) within a course: a seeded 70/30 split of its enrollments;
//  (b) across courses: train on one course, evaluate on the other.
// Each split gives its training and test sessions, optionally cut at the first `days` days.
import { join } from 'node:path';
import { type TrainingData, loadTrainingData, readLabels } from '../src/training/index.ts';
import { importKddCup2015, kddDataFiles } from '../src/sim/kdd.ts';
import { writeSimulationFiles } from '../src/sim/files.ts';
import { UserError } from '../src/errors.ts';
import { seededPermutation, seededRandom } from '../src/util/prng.ts';

const DAY = 86_400_000;

export interface KddSplit {
  /** "(a) course 645, 70/30 split", "(b) train 645, test 1038". */
  setting: string;
  /** Short name: a645, b645to1038. */
  name: string;
  trainFor: (days?: number) => Promise<TrainingData>;
  testFor: (days?: number) => Promise<TrainingData>;
}

export interface ImportedCourse {
  course: string;
  dir: string;
  enrollments: number;
  events: number;
  churnRate: number;
}

/**
 * The course and label files in the `--data` directory (an argument, never a default: a user points
 * at their own copy), or the tool's exit when they are missing: the reason, prefixed with the tool's
 * name and followed by `usage`, with the error's exit code (2 for a bad or missing --data).
 */
export function kddFilesOrExit(tool: string, dir: string | undefined, courses: readonly string[], usage?: string): ReturnType<typeof kddDataFiles> {
  try {
    return kddDataFiles(dir, courses);
  } catch (err) {
    process.stderr.write(`${tool}: ${(err as Error).message}\n${usage ? `${usage}\n` : ''}`);
    process.exit(err instanceof UserError ? err.exitCode : 1);
  }
}

/** `sessions` generator sessions (seeded) written to `dir` and loaded as training data. */
export async function generatorTrainingData(sessions: number, seed: number, dir: string): Promise<TrainingData> {
  await writeSimulationFiles({ sessions, seed, outDir: dir });
  return loadTrainingData({ events: join(dir, 'events.jsonl'), labels: join(dir, 'labels.csv') });
}

/** Imports each course file into `workDir`/kdd<course> (events.jsonl, labels.csv, spec.json). */
export async function importCourses(files: { labels: string; courses: Record<string, string> }, workDir: string): Promise<ImportedCourse[]> {
  const out: ImportedCourse[] = [];
  for (const [course, file] of Object.entries(files.courses)) {
    const dir = join(workDir, `kdd${course}`);
    const r = await importKddCup2015({ courseFile: file, labelsFile: files.labels, outDir: dir });
    out.push({ course, dir, enrollments: r.imported, events: r.events, churnRate: r.churnRate });
  }
  return out;
}

/** The (a) splits of every course, then the (b) splits of every ordered pair of courses. */
export function kddSplits(courses: readonly ImportedCourse[], seed: number): KddSplit[] {
  const files = (c: ImportedCourse) => ({ events: join(c.dir, 'events.jsonl'), labels: join(c.dir, 'labels.csv') });
  const horizon = (days?: number) => (days === undefined ? {} : { horizonMs: days * DAY });
  const splits: KddSplit[] = [];
  for (const c of courses) {
    const users = [...readLabels(files(c).labels).keys()].sort();
    const perm = seededPermutation(users.length, seededRandom(seed));
    const cut = Math.round(users.length * 0.7);
    const trainUsers = new Set<string>();
    const testUsers = new Set<string>();
    perm.forEach((p, r) => (r < cut ? trainUsers : testUsers).add(users[p]!));
    splits.push({
      setting: `(a) course ${c.course}, 70/30 split`,
      name: `a${c.course}`,
      trainFor: (days) => loadTrainingData({ ...files(c), users: trainUsers, ...horizon(days) }),
      testFor: (days) => loadTrainingData({ ...files(c), users: testUsers, ...horizon(days) }),
    });
  }
  for (const a of courses) {
    for (const b of courses) {
      if (a === b) continue;
      splits.push({
        setting: `(b) train ${a.course}, test ${b.course}`,
        name: `b${a.course}to${b.course}`,
        trainFor: (days) => loadTrainingData({ ...files(a), ...horizon(days) }),
        testFor: (days) => loadTrainingData({ ...files(b), ...horizon(days) }),
      });
    }
  }
  return splits;
}
