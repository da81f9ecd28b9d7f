// The readout recipe a bundle gets (trainer option `readout`, default 'auto'): the summary recipe
// for bucketed images (KDD), the embedding recipe for step images (the generator), each with the
// out-of-fold figures alert budgets need.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLogisticModel } from '../../../src/model/readout.ts';
import { importKddCup2015 } from '../../../src/sim/kdd.ts';
import { writeSimulationFiles } from '../../../src/sim/files.ts';
import { resolveReadoutRecipe } from '../../../src/training/options.ts';
import { trainBundle } from '../../../src/training/trainer.ts';
import { loadTrainingData } from '../../../src/training/training-data.ts';
import { writeKddFixture } from '../../helpers/kdd-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'jl-recipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readoutOf = (bundle: string) => parseLogisticModel(JSON.parse(readFileSync(join(bundle, 'readout.json'), 'utf8')));
const manifestOf = (bundle: string) => JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { training: { readout: string } };

describe('readout recipes', () => {
  it("'auto' means summary for bucketed images and embedding for step images", () => {
    expect(resolveReadoutRecipe('auto', 'buckets')).toBe('summary');
    expect(resolveReadoutRecipe('auto', 'steps')).toBe('embedding');
    expect(resolveReadoutRecipe('embedding', 'buckets')).toBe('embedding');
  });

  it('trains the summary recipe on KDD data: summary and window features, two penalty groups, out-of-fold figures', async () => {
    writeKddFixture(dir, 150);
    await importKddCup2015({ courseFile: join(dir, 'trainCourse645.csv'), labelsFile: join(dir, 'truth_train.csv'), outDir: join(dir, 'kdd') });
    const data = await loadTrainingData({ events: join(dir, 'kdd', 'events.jsonl'), labels: join(dir, 'kdd', 'labels.csv') });
    const bundle = join(dir, 'kdd-bundle');
    await trainBundle(data, bundle, { seed: 1, epochs: 2 });
    const m = readoutOf(bundle);
    expect(manifestOf(bundle).training.readout).toBe('summary');
    expect(m.featureNames).toEqual(expect.arrayContaining(['emb0', 'quietMinutes', 's:count:video', 's:events', 'head8:active', 'win0x8:active', 'win3x8:problem']));
    expect(Object.keys(m.penalties!).sort()).toEqual(['embedding', 'summary']);
    expect(m.penalties!.embedding! / m.penalties!.summary!).toBeGreaterThanOrEqual(1);
    expect(m.outOfFold!.sessions).toBe(data.sessions.filter((s) => !Number.isNaN(s.label)).length);
  }, 300_000);

  it('trains the embedding recipe on step images: no summary features, one L2, out-of-fold figures', async () => {
    await writeSimulationFiles({ sessions: 200, seed: 5, outDir: join(dir, 'sim') });
    const data = await loadTrainingData({ events: join(dir, 'sim', 'events.jsonl'), labels: join(dir, 'sim', 'labels.csv') });
    const bundle = join(dir, 'sim-bundle');
    await trainBundle(data, bundle, { seed: 1, epochs: 1, clusterer: 'kmeans', k: 3 });
    const m = readoutOf(bundle);
    expect(manifestOf(bundle).training.readout).toBe('embedding');
    expect(m.featureNames.some((n) => n.startsWith('s:') || n.startsWith('win'))).toBe(false);
    expect(m.penalties).toBeUndefined();
    expect(m.riskDistribution!.sessionMaxRisk).toHaveLength(201);
  }, 300_000);
});
