// KDD Cup 2015 (XuetangX MOOC) import: daily per-type activity counts expanded into single
// click events, so real labelled data enters through the same path as live traffic.
// An enrollment is both the user and the session key; its 30-day window is one journey
// with one image row per day (see kddDataSpec).
import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ClickEvent } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type DataSpec, IMAGE_SPEC_VERSION } from '../journey/image-spec.ts';
import { LABELS_HEADER } from './files.ts';
import { LineWriter } from './output.ts';
import { fnv1a32 } from '../util/hash.ts';
import { Rng } from '../util/prng.ts';

/** Event types of the data set, in the course files' column order. */
export const KDD_EVENT_TYPES = ['access', 'discussion', 'navigate', 'page_close', 'problem', 'video', 'wiki'] as const;
export const KDD_COURSE_HEADER = `enrollment_id,time,${KDD_EVENT_TYPES.map((t) => `event_${t}`).join(',')}`;
export const KDD_LABELS_HEADER = 'enrollment_id,label';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Sessionization and image settings for this data: one journey per enrollment, one row per day. */
export function kddDataSpec(): DataSpec {
  return {
    sessionization: {
      // Longer than the 30-day window, so an enrollment never splits into several sessions.
      gapMs: 31 * DAY,
      maxSessionMs: 31 * DAY,
      allowedLatenessMs: HOUR,
      // A quiet learner is re-scored once a day (the readout weighs how long they have been away).
      quietEveryMs: DAY,
    },
    image: {
      version: IMAGE_SPEC_VERSION,
      rows: 30,
      rowMode: 'buckets',
      bucketMs: DAY,
      eventTypes: [...KDD_EVENT_TYPES],
      pageBuckets: 0,
      dwellCapMs: 30 * 60_000,
      gapCapMs: 30 * DAY,
      valueCap: 1000,
      // 99% of non-zero daily counts are below 80 in both course files.
      countCap: 100,
    },
  };
}

export interface KddDayRow {
  enrollmentId: string;
  /** YYYY-MM-DD as in the file. */
  date: string;
  /** Per KDD_EVENT_TYPES, that day's count. */
  counts: number[];
}

/**
 * One enrollment-day as events. The order within a day is lost in the data, so types are
 * shuffled; timestamps form one study session starting between 07:00 and 21:00 UTC with
 * log-normal gaps, squeezed to stay inside the day. Deterministic in (seed, enrollment, date).
 */
export function expandKddDay(row: KddDayRow, course: string, seed = 1): ClickEvent[] {
  const types: string[] = [];
  row.counts.forEach((n, i) => {
    for (let k = 0; k < n; k++) types.push(KDD_EVENT_TYPES[i]!);
  });
  if (types.length === 0) return [];
  const rng = new Rng(fnv1a32(`${row.enrollmentId}|${row.date}`, seed));
  for (let i = types.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [types[i], types[j]] = [types[j]!, types[i]!];
  }
  const dayStart = Date.parse(`${row.date}T00:00:00Z`);
  const start = 7 * HOUR + rng.next() * 14 * HOUR;
  const offsets = [0];
  for (let i = 1; i < types.length; i++) offsets.push(offsets[i - 1]! + Math.max(1000, rng.logNormal(45_000, 1)));
  const span = offsets[offsets.length - 1]!;
  const room = DAY - 1 - start - types.length;
  const scale = span > room ? room / span : 1;
  const yyyymmdd = row.date.replaceAll('-', '');
  let prev = -1;
  return types.map((type, i) => {
    // Strictly increasing ms, so the per-day order is stable under any sort.
    const t = Math.max(prev + 1, dayStart + Math.floor(start + offsets[i]! * scale));
    prev = t;
    return {
      eventId: `kdd-${row.enrollmentId}-${yyyymmdd}-${i}`,
      sessionId: row.enrollmentId,
      userId: row.enrollmentId,
      timestamp: t,
      type,
      page: null,
      durationMs: null,
      value: null,
      properties: { course },
    };
  });
}

export interface KddImportOptions {
  courseFile: string;
  labelsFile: string;
  outDir: string;
  /** Seed for the within-day timestamps. Default 1. */
  seed?: number;
}

export interface KddImportResult {
  course: string;
  /** Enrollments in the course file. */
  enrollments: number;
  /** Enrollments written (labelled and with at least one event). */
  imported: number;
  /** Enrollments with no row in the labels file: skipped, events and all. */
  skippedUnlabelled: number;
  /** Labelled enrollments without any activity: no events, so no journey and no label row. */
  skippedInactive: number;
  events: number;
  days: number;
  firstDay: string | null;
  lastDay: string | null;
  /** Share of imported enrollments labelled as dropouts. */
  churnRate: number;
}

/** Where the public data comes from, for messages that ask a user to fetch it. */
export const KDD_SOURCE =
  'KDD Cup 2015 (XuetangX MOOC dropout prediction), published by the organisers at http://moocdata.cn/challenges/kdd-cup-2015 and mirrored on Kaggle';

/**
 * The files an evaluation on real KDD Cup 2015 data reads from `dir`: one course file per
 * course in the daily-count layout (`trainCourse<N>.csv`, header KDD_COURSE_HEADER, 30 rows per
 * enrollment) and `truth_train.csv` (KDD_LABELS_HEADER). Throws a UserError (exit 2) naming
 * what is missing and where the data comes from; nothing has a default location.
 */
export function kddDataFiles(dir: string | undefined, courses: readonly string[]): { labels: string; courses: Record<string, string> } {
  const expected = [...courses.map((c) => `trainCourse${c}.csv`), 'truth_train.csv'];
  const what =
    `It expects ${expected.join(', ')}: course files in the daily-count layout ("${KDD_COURSE_HEADER}", one row per enrollment and day) ` +
    `and the labels ("${KDD_LABELS_HEADER}"). The data is ${KDD_SOURCE}.`;
  if (!dir) throw new UserError(ErrorCodes.CONFIG_INVALID, `--data DIR is required: the directory holding the KDD Cup 2015 files. ${what}`, { exitCode: 2 });
  const missing = expected.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--data ${dir}: missing ${missing.join(', ')}. ${what}`, { exitCode: 2 });
  }
  return { labels: join(dir, 'truth_train.csv'), courses: Object.fromEntries(courses.map((c) => [c, join(dir, `trainCourse${c}.csv`)])) };
}

export const KDD_FILES = { events: 'events.jsonl', labels: 'labels.csv', spec: 'spec.json' } as const;

/**
 * Writes DIR/events.jsonl (ordered by event time across enrollments), DIR/labels.csv
 * (`userId,churned` with the enrollment id as userId) and DIR/spec.json. Only the daily
 * counts are held in memory; events are produced and written one day at a time.
 */
export async function importKddCup2015(options: KddImportOptions): Promise<KddImportResult> {
  const seed = options.seed ?? 1;
  const course = basename(options.courseFile).replace(/^trainCourse/, '').replace(/\.csv$/, '');
  const labels = await readKddLabels(options.labelsFile);
  const byDay = new Map<string, KddDayRow[]>();
  const order: string[] = [];
  const activity = new Map<string, number>();
  const seen = new Set<string>();
  await readCsv(options.courseFile, '--course', KDD_COURSE_HEADER, (fields, where) => {
    const [enrollmentId, date, ...rest] = fields;
    if (!enrollmentId || !/^\d+$/.test(enrollmentId)) throw bad(`${where}: enrollment_id must be an integer, got "${enrollmentId ?? ''}"`);
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(Date.parse(`${date}T00:00:00Z`))) {
      throw bad(`${where}: time must be a date YYYY-MM-DD, got "${date ?? ''}"`);
    }
    const counts = rest.map((c) => Number(c));
    if (counts.length !== KDD_EVENT_TYPES.length || counts.some((n) => !Number.isInteger(n) || n < 0)) {
      throw bad(`${where}: expected ${KDD_EVENT_TYPES.length} non-negative integer counts after the date, got "${rest.join(',')}"`);
    }
    const key = `${enrollmentId}|${date}`;
    if (seen.has(key)) throw bad(`${where}: a second row for enrollment ${enrollmentId} on ${date}; each enrollment has one row per day`);
    seen.add(key);
    if (!activity.has(enrollmentId)) order.push(enrollmentId);
    activity.set(enrollmentId, (activity.get(enrollmentId) ?? 0) + counts.reduce((a, b) => a + b, 0));
    if (!labels.has(enrollmentId)) return;
    let rows = byDay.get(date);
    if (!rows) byDay.set(date, (rows = []));
    rows.push({ enrollmentId, date, counts });
  });

  mkdirSync(options.outDir, { recursive: true });
  const days = [...byDay.keys()].sort();
  const out = new LineWriter(join(options.outDir, KDD_FILES.events));
  let events = 0;
  for (const day of days) {
    const batch = byDay.get(day)!.flatMap((row) => expandKddDay(row, course, seed));
    batch.sort((a, b) => a.timestamp - b.timestamp || Number(a.sessionId) - Number(b.sessionId));
    for (const e of batch) await out.line(JSON.stringify(e));
    events += batch.length;
    byDay.delete(day);
  }
  await out.close();

  const labelsOut = new LineWriter(join(options.outDir, KDD_FILES.labels));
  await labelsOut.line(LABELS_HEADER);
  let imported = 0;
  let dropouts = 0;
  let skippedUnlabelled = 0;
  let skippedInactive = 0;
  for (const id of order) {
    const label = labels.get(id);
    if (label === undefined) skippedUnlabelled++;
    else if ((activity.get(id) ?? 0) === 0) skippedInactive++;
    else {
      imported++;
      dropouts += label;
      await labelsOut.line(`${id},${label}`);
    }
  }
  await labelsOut.close();
  writeFileSync(join(options.outDir, KDD_FILES.spec), `${JSON.stringify(kddDataSpec(), null, 2)}\n`);
  return {
    course,
    enrollments: order.length,
    imported,
    skippedUnlabelled,
    skippedInactive,
    events,
    days: days.length,
    firstDay: days[0] ?? null,
    lastDay: days[days.length - 1] ?? null,
    churnRate: imported ? dropouts / imported : 0,
  };
}

/** truth_train.csv: enrollment id → 1 (dropout) or 0. */
export async function readKddLabels(file: string): Promise<Map<string, 0 | 1>> {
  const labels = new Map<string, 0 | 1>();
  await readCsv(file, '--labels', KDD_LABELS_HEADER, (fields, where) => {
    const [id, label] = fields;
    if (!id || !/^\d+$/.test(id) || (label !== '0' && label !== '1') || fields.length !== 2) {
      throw bad(`${where}: expected "enrollment_id,label" with label 0 or 1, got "${fields.join(',')}"`);
    }
    labels.set(id, label === '1' ? 1 : 0);
  });
  return labels;
}

async function readCsv(file: string, flag: string, header: string, onRow: (fields: string[], where: string) => void): Promise<void> {
  const input = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${flag} ${file}: cannot read it (${(err as Error).message}).`, { cause: err, exitCode: 2 });
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (n === 1) {
      if (line !== header) throw bad(`${flag} ${file}: the header must be "${header}", got "${line}"; is this the right file?`);
      continue;
    }
    if (line === '') continue;
    onRow(line.split(','), `${flag} ${file}:${n}`);
  }
}

function bad(message: string): UserError {
  return new UserError(ErrorCodes.INPUT_INVALID, `${message}.`);
}
