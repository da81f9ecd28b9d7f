import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { loadTrainingData } from '../../../src/training/training-data.ts';
import { KDD_COURSE_HEADER, importKddCup2015, kddDataSpec } from '../../../src/sim/kdd.ts';

describe('training data in buckets mode (KDD import)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jl-kdd-td-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes one session per enrollment with its label, a day-bucket image, prefixes and the first-N-days cut', async () => {
    const rows = [
      '1,2014-05-01,3,0,1,2,0,1,0',
      '1,2014-05-02,1,1,0,0,2,0,0',
      '1,2014-05-09,4,0,0,1,0,3,0',
      '2,2014-05-01,2,0,0,0,0,0,0',
      '3,2014-05-03,5,0,2,1,4,2,1',
      '3,2014-05-20,1,0,0,0,0,0,0',
    ];
    writeFileSync(join(dir, 'trainCourse9.csv'), `${KDD_COURSE_HEADER}\n${rows.join('\n')}\n`);
    writeFileSync(join(dir, 'truth.csv'), 'enrollment_id,label\n1,0\n2,1\n3,0\n');
    const out = join(dir, 'kdd9');
    await importKddCup2015({ courseFile: join(dir, 'trainCourse9.csv'), labelsFile: join(dir, 'truth.csv'), outDir: out });
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ClickEvent);
    const td = await loadTrainingData({ events: join(out, 'events.jsonl'), labels: join(out, 'labels.csv') });
    expect(td.spec).toEqual(kddDataSpec());
    expect(td.sessions.map((s) => s.sessionId).sort()).toEqual(['1', '2', '3']);
    const byId = new Map(td.sessions.map((s) => [s.sessionId, s]));
    expect(byId.get('2')!.label).toBe(1);
    expect(byId.get('1')!.label).toBe(0);
    expect(byId.get('1')!.eventCount).toBe(events.filter((e) => e.userId === '1').length);
    // Day rows: enrollment 1 was active on its days 0, 1 and 8 only.
    const img = byId.get('1')!.final.rasterize();
    const w = img.length / 30;
    const active = Array.from({ length: 30 }, (_, r) => img.subarray(r * w, (r + 1) * w).some((v) => v > 0));
    expect(active.flatMap((a, r) => (a ? [r] : []))).toEqual([0, 1, 8]);
    expect(byId.get('1')!.prefixes.length).toBeGreaterThan(0);
    // First 7 days of the data: enrollment 3's day-20 activity and enrollment 1's day 9 are cut.
    const early = await loadTrainingData({ events: join(out, 'events.jsonl'), labels: join(out, 'labels.csv'), horizonMs: 7 * 86_400_000 });
    const first = events[0]!.timestamp;
    expect(early.events).toBe(events.filter((e) => e.timestamp < first + 7 * 86_400_000).length);
    expect(early.sessions.find((s) => s.sessionId === '3')!.eventCount).toBe(15);
  });
});
