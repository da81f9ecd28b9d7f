import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSimulationFiles } from '../../../src/sim/files.ts';
import { removeTempDirs, runCli, tempDir } from './run-cli.ts';

describe('journeylens train / eval / render --cluster', () => {
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    await writeSimulationFiles({ sessions: 200, seed: 31, outDir: join(dir, 'sim') });
  });
  afterAll(() => removeTempDirs());

  it('trains a bundle, evaluates it and draws a cluster; a tampered bundle exits non-zero naming the file', async () => {
    const events = join(dir, 'sim', 'events.jsonl');
    const labels = join(dir, 'sim', 'labels.csv');
    const bundle = join(dir, 'bundle');
    const train = await runCli('train', '--events', events, '--labels', labels, '--out', bundle, '--epochs', '2', '--clusterer', 'kmeans', '--k', '4', '--no-progress');
    expect(train.code).toBe(0);
    expect(train.stderr).toMatch(/epoch 1\/2: loss \d\.\d{4}, val loss \d\.\d{4}, \d+ images\/s/);
    expect(train.stderr).toMatch(/wrote .*bundle: model [0-9a-f]{12}, 200 sessions, 4 clusters/);
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { training: { sessions: number; seed: number }; metrics: { ari: number } };
    expect(manifest.training).toMatchObject({ sessions: 200, seed: 42 });
    expect(typeof manifest.metrics.ari).toBe('number');

    const ev = await runCli('eval', '--bundle', bundle, '--events', events, '--labels', labels, '--out', join(dir, 'q.md'));
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/^ROC AUC: \d\.\d{3}$/m);
    expect(readFileSync(join(dir, 'q.md'), 'utf8')).toContain('baseline: logistic regression on per-type counts');

    const png = join(dir, 'c.png');
    expect((await runCli('render', '--bundle', bundle, '--cluster', '0', '--out', png)).code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    const w = readFileSync(join(bundle, 'encoder.weights.bin'));
    w[7] = w[7]! ^ 0xff;
    writeFileSync(join(bundle, 'encoder.weights.bin'), w);
    const refused = await runCli('eval', '--bundle', bundle, '--events', events, '--labels', labels);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/encoder\.weights\.bin does not match its checksum/);
  }, 60_000);
});
