import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KDD_COURSE_HEADER } from '../../../src/sim/kdd.ts';
import { removeTempDirs, runCli as run, tempDir as tmp } from './run-cli.ts';

afterAll(removeTempDirs);

describe('journeylens import kddcup2015', () => {
  it('writes events, labels and spec, and warns about unlabelled enrollments', async () => {
    const d = tmp();
    const course = join(d, 'trainCourse77.csv');
    writeFileSync(course, `${KDD_COURSE_HEADER}\n5,2014-05-01,2,0,1,0,0,0,0\n6,2014-05-01,1,0,0,0,0,0,0\n`);
    const labels = join(d, 'truth.csv');
    writeFileSync(labels, 'enrollment_id,label\n5,0\n');
    const out = join(d, 'out');
    const r = await run('import', 'kddcup2015', '--course', course, '--labels', labels, '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: 1 of 2 enrollments in ${course} have no label in ${labels}; they were skipped.`);
    expect(r.stdout).toContain('course 77: 1 enrollments, 3 events over 1 days');
    expect(readdirSync(out).sort()).toEqual(['events.jsonl', 'labels.csv', 'spec.json']);
  });

  it('requires --labels', async () => {
    const r = await run('import', 'kddcup2015', '--course', 'x.csv', '--out', tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--labels <file>' not specified");
  });
});
