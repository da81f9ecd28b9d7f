// Sanity check of the readout and metric code on real labels: logistic regression on KDD Cup
// 2015 per-type counts (the baseline the eval table compares the embedding readout against).
// Reads the KDD Cup 2015 files in place from --data DIR (never copied into the repo).
//
//   npx tsx tools/kdd-counts-baseline.ts --data DIR [--seed N]
//
// Prints one JSON object: ROC AUC / PR AUC for (a) a seeded 70/30 split within each course,
// (b) training on one course and testing on the other, for per-day counts (days × 7 types,
// log1p) and per-type totals (7 features, log1p), using the first 7, 14, 21 and 30 days.
import { readFileSync } from 'node:fs';
import { predictLogisticBatch } from '../src/model/readout.ts';
import { averagePrecision, fitLogistic, rocAuc } from '../src/training/index.ts';
import { seededPermutation, seededRandom } from '../src/util/prng.ts';
import { kddFilesOrExit } from './kdd-splits.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const seed = Number(arg('--seed', '42'));
const courses = ['645', '1038'];
const files = kddFilesOrExit('kdd-counts-baseline', process.argv.includes('--data') ? arg('--data', '') : undefined, courses);
const windows = [7, 14, 21, 30];
const l2s = [1, 10, 100];

interface Course {
  ids: number[];
  /** Per enrollment: 30 days × 7 counts, days in calendar order. */
  days: number[][][];
  labels: number[];
}

function loadTruth(): Map<number, number> {
  const truth = new Map<number, number>();
  for (const line of readFileSync(files.labels, 'utf8').split('\n').slice(1)) {
    if (!line) continue;
    const [id, label] = line.split(',');
    truth.set(Number(id), Number(label));
  }
  return truth;
}

function loadCourse(name: string, truth: Map<number, number>): Course {
  const rows = new Map<number, { time: string; counts: number[] }[]>();
  for (const line of readFileSync(files.courses[name]!, 'utf8').split('\n').slice(1)) {
    if (!line) continue;
    const [id, time, ...counts] = line.split(',');
    const list = rows.get(Number(id)) ?? [];
    list.push({ time: time!, counts: counts.map(Number) });
    rows.set(Number(id), list);
  }
  const ids = [...rows.keys()].sort((a, b) => a - b);
  return {
    ids,
    days: ids.map((id) => rows.get(id)!.sort((a, b) => a.time.localeCompare(b.time)).map((r) => r.counts)),
    labels: ids.map((id) => truth.get(id)!),
  };
}

const perDay = (days: number[][], w: number) => days.slice(0, w).flatMap((d) => d.map((c) => Math.log1p(c)));
const totals = (days: number[][], w: number) =>
  days[0]!.map((_, t) => Math.log1p(days.slice(0, w).reduce((s, d) => s + d[t]!, 0)));

function evaluate(trainX: number[][], trainY: number[], testX: number[][], testY: number[], l2: number) {
  const model = fitLogistic(trainX, trainY, { l2, calibration: 'none' });
  const p = predictLogisticBatch(model, testX);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { rocAuc: r(rocAuc(testY, p)), prAuc: r(averagePrecision(testY, p)) };
}

const truth = loadTruth();
const data = Object.fromEntries(courses.map((c) => [c, loadCourse(c, truth)])) as Record<string, Course>;
const features = { perDayCounts: perDay, perTypeTotals: totals };
const out: Record<string, unknown>[] = [];
for (const [featureName, f] of Object.entries(features)) {
  for (const w of windows) {
    for (const l2 of l2s) {
      for (const c of courses) {
        const d = data[c]!;
        const order = seededPermutation(d.ids.length, seededRandom(seed));
        const cut = Math.round(0.7 * d.ids.length);
        const tr = Array.from(order.subarray(0, cut));
        const te = Array.from(order.subarray(cut));
        out.push({
          features: featureName,
          days: w,
          l2,
          split: `course ${c} 70/30`,
          trainRows: tr.length,
          testRows: te.length,
          testChurnRate: Math.round((te.reduce((s, i) => s + d.labels[i]!, 0) / te.length) * 1000) / 1000,
          ...evaluate(tr.map((i) => f(d.days[i]!, w)), tr.map((i) => d.labels[i]!), te.map((i) => f(d.days[i]!, w)), te.map((i) => d.labels[i]!), l2),
        });
      }
      for (const [a, b] of [courses, [...courses].reverse()] as [string, string][]) {
        const A = data[a]!;
        const B = data[b]!;
        out.push({
          features: featureName,
          days: w,
          l2,
          split: `train ${a} → test ${b}`,
          trainRows: A.ids.length,
          testRows: B.ids.length,
          ...evaluate(A.days.map((x) => f(x, w)), A.labels, B.days.map((x) => f(x, w)), B.labels, l2),
        });
      }
    }
  }
}
console.log(JSON.stringify({ tool: 'kdd-counts-baseline', seed, results: out }));
