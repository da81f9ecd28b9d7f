// tools/encoder-cv.ts (docs/model.md quotes its table): per training set and outer fold a whole
// bundle is trained on the other folds and scored on the held-out sessions, for every churn weight.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools/encoder-cv.ts'), ...args], { cwd: root, encoding: 'utf8' });

describe('encoder-cv', () => {
  it('exits 2 naming the options when there is nothing to compare or a weight is not a number ≥ 0', () => {
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('encoder-cv: nothing to compare: give --data DIR');
    const bad = run(['--generator', '100', '--weights', '0,x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--weights must be numbers ≥ 0, comma-separated (got '0,x')");
  });

  it('scores every weight on every held-out fold of the training sessions, beside the fair baseline', { timeout: 600_000 }, () => {
    const r = run(['--generator', '300', '--generator-epochs', '1', '--weights', '0,1']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { weight: number; fold: number; sessions: number; aucFinal: number; fairAuc: number });
    expect(lines.map((l) => `${l.fold}:${l.weight}`)).toEqual(['0:0', '0:1', '1:0', '1:1', '2:0', '2:1']);
    // the three held-out folds partition the labelled sessions (each weight sees the same folds)
    const total = lines.filter((l) => l.weight === 0).reduce((a, l) => a + l.sessions, 0);
    expect(total).toBe(lines.filter((l) => l.weight === 1).reduce((a, l) => a + l.sessions, 0));
    expect(total).toBeGreaterThan(250);
    for (const l of lines) {
      expect(l.aucFinal).toBeGreaterThan(0);
      expect(l.aucFinal).toBeLessThan(1);
      expect(l.fairAuc).toBeGreaterThan(0);
    }
    expect(r.stdout).toMatch(/\n\| 0 \| 0\.\d{4} \/ [+-]0\.\d{4} \//);
    expect(r.stdout).toMatch(/\n\| 1 \| 0\.\d{4} \/ [+-]0\.\d{4} \//);
  });
});
