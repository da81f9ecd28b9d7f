import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { ErrorCodes } from '../../../src/errors.ts';
import { type DataSpec } from '../../../src/journey/image-spec.ts';
import { KDD_COURSE_HEADER, KDD_EVENT_TYPES, KDD_LABELS_HEADER, expandKddDay, importKddCup2015, kddDataFiles, kddDataSpec } from '../../../src/sim/kdd.ts';
import { writeKddFixture } from '../../helpers/kdd-fixture.ts';

const DAY = 86_400_000;
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'jl-kdd-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

const DATA = tmp();
writeKddFixture(DATA);

const truth = new Map(
  readLines(join(DATA, 'truth_train.csv'))
    .slice(1)
    .map((l) => l.split(',') as [string, string]),
);

describe.each(['trainCourse645.csv', 'trainCourse1038.csv'])('import kddcup2015 %s', (file) => {
  const out = tmp();
  const done = importKddCup2015({ courseFile: join(DATA, file), labelsFile: join(DATA, 'truth_train.csv'), outDir: out });

  it('imports, for every enrollment, day and type, exactly the count in the CSV', async () => {
    const r = await done;
    const imported = new Map<string, number>();
    // Collected, then asserted once: an expect per event would make this test minutes long.
    const problems: string[] = [];
    let last = -Infinity;
    for (const line of readLines(join(out, 'events.jsonl'))) {
      const e = JSON.parse(line) as ClickEvent;
      if (e.timestamp < last) problems.push(`${e.eventId} is out of time order`);
      last = e.timestamp;
      if (e.userId !== e.sessionId) problems.push(`${e.eventId}: userId ${e.userId} ≠ sessionId ${e.sessionId}`);
      const day = new Date(e.timestamp).toISOString().slice(0, 10);
      const key = `${e.sessionId},${day},${e.type}`;
      imported.set(key, (imported.get(key) ?? 0) + 1);
    }
    let total = 0;
    let cells = 0;
    for (const row of readLines(join(DATA, file)).slice(1)) {
      const [id, day, ...counts] = row.split(',');
      counts.forEach((c, i) => {
        const key = `${id},${day},${KDD_EVENT_TYPES[i]}`;
        if ((imported.get(key) ?? 0) !== Number(c)) problems.push(`${key}: imported ${imported.get(key) ?? 0}, CSV ${c}`);
        imported.delete(key);
        total += Number(c);
        cells++;
      });
    }
    expect(problems).toEqual([]);
    // Nothing imported that the CSV does not have.
    expect([...imported.keys()]).toEqual([]);
    expect(r.events).toBe(total);
    expect(cells).toBe(r.enrollments * 30 * KDD_EVENT_TYPES.length);
    expect(r.days).toBe(30);
  });

  it('writes labels.csv (userId,churned) that match truth_train.csv', async () => {
    const r = await done;
    const rows = readLines(join(out, 'labels.csv'));
    expect(rows[0]).toBe('userId,churned');
    const enrollments = new Set(readLines(join(DATA, file)).slice(1).map((l) => l.split(',')[0]));
    expect(rows.length - 1).toBe(r.imported);
    expect(r.imported + r.skippedUnlabelled + r.skippedInactive).toBe(enrollments.size);
    for (const row of rows.slice(1)) {
      const [id, churned] = row.split(',');
      expect(enrollments.has(id)).toBe(true);
      expect(churned).toBe(truth.get(id!));
    }
    const dropouts = rows.slice(1).filter((l) => l.endsWith(',1')).length;
    expect(r.churnRate).toBeCloseTo(dropouts / r.imported, 10);
  });

  it('writes spec.json: one 30-day journey per enrollment, one image row per day', async () => {
    await done;
    const spec = JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')) as DataSpec;
    expect(spec).toEqual(kddDataSpec());
    expect(spec.image.rowMode).toBe('buckets');
    expect(spec.image.bucketMs).toBe(DAY);
    expect(spec.image.rows).toBe(30);
    expect(spec.image.pageBuckets).toBe(0);
    expect(spec.image.eventTypes).toEqual([...KDD_EVENT_TYPES]);
    expect(spec.sessionization.gapMs).toBeGreaterThan(30 * DAY);
    expect(spec.sessionization.maxSessionMs).toBeGreaterThan(30 * DAY);
  });
});

describe('expandKddDay', () => {
  const row = { enrollmentId: '42', date: '2014-06-01', counts: [120, 3, 40, 30, 0, 25, 1] };

  it('is deterministic for a seed, spreads events inside the day and differs across seeds', () => {
    const a = expandKddDay(row, '645', 1);
    expect(expandKddDay(row, '645', 1)).toEqual(a);
    expect(a).toHaveLength(219);
    const dayStart = Date.UTC(2014, 5, 1);
    for (let i = 0; i < a.length; i++) {
      expect(a[i]!.timestamp).toBeGreaterThanOrEqual(dayStart);
      expect(a[i]!.timestamp).toBeLessThan(dayStart + DAY);
      if (i > 0) expect(a[i]!.timestamp).toBeGreaterThan(a[i - 1]!.timestamp);
    }
    expect(new Set(a.map((e) => e.eventId)).size).toBe(a.length);
    expect(expandKddDay(row, '645', 2).map((e) => e.timestamp)).not.toEqual(a.map((e) => e.timestamp));
  });

  it('gives no events for an inactive day', () => {
    expect(expandKddDay({ ...row, counts: [0, 0, 0, 0, 0, 0, 0] }, '645')).toEqual([]);
  });
});

describe('importKddCup2015 edge cases', () => {
  it('skips and counts enrollments missing from the labels file, and inactive ones', async () => {
    const d = tmp();
    const course = join(d, 'trainCourse9.csv');
    writeFileSync(
      course,
      [KDD_COURSE_HEADER, '1,2014-05-01,1,0,0,0,0,0,0', '1,2014-05-02,0,2,0,0,0,0,0', '2,2014-05-01,3,0,0,0,0,0,0', '3,2014-05-01,0,0,0,0,0,0,0', ''].join('\n'),
    );
    const labels = join(d, 'truth.csv');
    writeFileSync(labels, 'enrollment_id,label\n1,1\n3,0\n');
    const out = join(d, 'out');
    const r = await importKddCup2015({ courseFile: course, labelsFile: labels, outDir: out });
    expect(r).toMatchObject({ course: '9', enrollments: 3, imported: 1, skippedUnlabelled: 1, skippedInactive: 1, events: 3 });
    expect(readLines(join(out, 'labels.csv'))).toEqual(['userId,churned', '1,1']);
    expect(readLines(join(out, 'events.jsonl')).map((l) => (JSON.parse(l) as ClickEvent).sessionId)).toEqual(['1', '1', '1']);
  });

  it('names the file, line and fix for malformed input', async () => {
    const d = tmp();
    const course = join(d, 'c.csv');
    const labels = join(d, 'l.csv');
    writeFileSync(labels, 'enrollment_id,label\n1,1\n');
    writeFileSync(course, 'id,day,a\n');
    await expect(importKddCup2015({ courseFile: course, labelsFile: labels, outDir: d })).rejects.toMatchObject({
      code: ErrorCodes.INPUT_INVALID,
      message: `--course ${course}: the header must be "${KDD_COURSE_HEADER}", got "id,day,a"; is this the right file?.`,
    });
    writeFileSync(course, `${KDD_COURSE_HEADER}\n1,2014-05-01,1,0,x,0,0,0,0\n`);
    await expect(importKddCup2015({ courseFile: course, labelsFile: labels, outDir: d })).rejects.toThrow(
      `--course ${course}:2: expected 7 non-negative integer counts after the date, got "1,0,x,0,0,0,0".`,
    );
    writeFileSync(course, `${KDD_COURSE_HEADER}\n1,2014-05-01,1,0,0,0,0,0,0\n1,2014-05-01,2,0,0,0,0,0,0\n`);
    await expect(importKddCup2015({ courseFile: course, labelsFile: labels, outDir: d })).rejects.toThrow(
      `--course ${course}:3: a second row for enrollment 1 on 2014-05-01; each enrollment has one row per day.`,
    );
    await expect(importKddCup2015({ courseFile: join(d, 'missing.csv'), labelsFile: labels, outDir: d })).rejects.toThrow(/--course .*missing\.csv: cannot read it/);
  });
});

describe('kddDataFiles', () => {
  it('requires the data directory as an argument and names the files it expects and where the data comes from', () => {
    expect(() => kddDataFiles(undefined, ['645'])).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^--data DIR is required: .*trainCourse645\.csv, truth_train\.csv.*KDD Cup 2015/) }),
    );
    const d = tmp();
    writeFileSync(join(d, 'truth_train.csv'), `${KDD_LABELS_HEADER}\n`);
    expect(() => kddDataFiles(d, ['645', '1038'])).toThrow(`--data ${d}: missing trainCourse645.csv, trainCourse1038.csv. It expects`);
    writeFileSync(join(d, 'trainCourse645.csv'), `${KDD_COURSE_HEADER}\n`);
    expect(kddDataFiles(d, ['645'])).toEqual({ labels: join(d, 'truth_train.csv'), courses: { '645': join(d, 'trainCourse645.csv') } });
  });

  it('makes `npm run eval:kdd` without --data exit 2 with that message, before any work', () => {
    const root = join(import.meta.dirname, '../../..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools/eval-kdd.ts')], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('eval:kdd: --data DIR is required');
    expect(r.stderr).toContain('Usage: npm run eval:kdd -- --data DIR');
  });
});
