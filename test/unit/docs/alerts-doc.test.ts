// docs/alerts.md's commands, run as written (paths under a temporary directory holding a small
// data set in the KDD Cup 2015 layout): import two courses, train on one, evaluate on the other
// with an alert budget; and the `run` line's risk setting, checked by `config print`.
import { afterAll, describe, expect, it } from 'vitest';
import { isAbsolute, join } from 'node:path';
import { codeBlocks } from '../../helpers/docs.ts';
import { writeKddFixture } from '../../helpers/kdd-fixture.ts';
import { removeTempDirs, runCli, tempDir } from '../commands/run-cli.ts';

const PATH_FLAGS = new Set(['--course', '--labels', '--out', '--events', '--bundle', '--baseline-events', '--baseline-labels']);

/** A doc line's arguments after `journeylens`, with file arguments placed under `dir`. */
function args(line: string, dir: string): string[] {
  const words = line.trim().split(/\s+/);
  expect(words[0]).toBe('journeylens');
  return words.slice(1).map((w, i, all) => (i > 0 && PATH_FLAGS.has(all[i - 1]!) && !isAbsolute(w) ? join(dir, w) : w));
}

describe('docs/alerts.md', () => {
  afterAll(() => removeTempDirs());

  it('measures a bundle trained on one course on another, with an alert budget, as the doc says', async () => {
    const [measure] = codeBlocks('docs/alerts.md', 'sh');
    const dir = tempDir();
    writeKddFixture(dir, 150);
    const lines = measure!.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['import', 'import', 'train', 'eval']);
    let out = '';
    for (const line of lines) {
      const r = await runCli(...args(line, dir));
      expect(r.stderr, line).not.toMatch(/error/i);
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      out = r.stdout;
    }
    expect(out).toMatch(/^ROC AUC: 0\.\d{3}$/m);
    expect(out).toContain('Alerts at the risk setting "medium=top20%,high=top5%"');
    expect(out).toMatch(/\| high \| highest state \| \d+ \| \d+\.\d% \|/);
  }, 300_000);

  it("gives a run line whose risk setting journeylens accepts", async () => {
    const [, run] = codeBlocks('docs/alerts.md', 'sh');
    const words = args(run!, tempDir());
    expect(words[0]).toBe('run');
    const r = await runCli('config', 'print', ...words.slice(1));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ risk: 'medium=top20%,high=top5%' });
    const bad = await runCli('config', 'print', ...words.slice(1).map((w) => (w.startsWith('medium=') ? 'medium=top5%,high=top20%' : w)));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--risk \(env JOURNEYLENS_RISK\) the medium budget \(top5%\) must be larger than the high budget \(top20%\)/);
  });
});
