import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../../../src/commands/eval.ts';
import { loadBundle } from '../../../src/model/bundle.ts';
import { parseRiskSetting, quantileAt } from '../../../src/contracts/risk.ts';
import { countFeatures, evaluateBundle, formatEvalTable, formatSigned3, shownMargin } from '../../../src/training/evaluate.ts';
import { rocAuc } from '../../../src/training/metrics-quality.ts';
import { trainBundle } from '../../../src/training/trainer.ts';
import { type TrainingSession, loadTrainingData } from '../../../src/training/training-data.ts';
import { writeSimulationFiles } from '../../../src/sim/files.ts';

describe('evaluate', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jl-eval-'));
    await writeSimulationFiles({ sessions: 300, seed: 21, outDir: join(dir, 'train') });
    await writeSimulationFiles({ sessions: 200, seed: 22, outDir: join(dir, 'test') });
    bundle = join(dir, 'bundle');
    const td = await loadTrainingData({ events: join(dir, 'train', 'events.jsonl'), labels: join(dir, 'train', 'labels.csv') });
    await trainBundle(td, bundle, { seed: 1, epochs: 2, clusterer: 'kmeans', k: 5 });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('margins are differences of the printed AUCs, and a rounded zero prints +0.000, never -0.000', () => {
    expect(shownMargin(0.90021, 0.90049)).toBe(0);
    expect(formatSigned3(shownMargin(0.90021, 0.90049))).toBe('+0.000');
    expect(formatSigned3(-0.0002)).toBe('+0.000');
    expect(shownMargin(0.9104, 0.9061)).toBe(0.004);
    expect(formatSigned3(0.004)).toBe('+0.004');
    expect(formatSigned3(-0.0125)).toBe('-0.013');
  });

  it('counts features are log1p per known type, unknown types pooled as other, plus the total', () => {
    const s = { summary: { types: { search: 3, page_view: 1, wishlist_add: 2 } } } as unknown as TrainingSession;
    expect(countFeatures(s, ['page_view', 'search'])).toEqual([Math.log1p(1), Math.log1p(3), Math.log1p(2), Math.log1p(6)]);
  });

  it('scores held-out sessions: AUCs of the served churnRisk, the count baseline and ARI, in one table', async () => {
    const loaded = await loadBundle(bundle, { encoder: 'inline' });
    try {
      const test = await loadTrainingData({ events: join(dir, 'test', 'events.jsonl'), labels: join(dir, 'test', 'labels.csv') });
      const train = await loadTrainingData({ events: join(dir, 'train', 'events.jsonl'), labels: join(dir, 'train', 'labels.csv') });
      const r = await evaluateBundle(loaded, test, { baselineTrain: train });
      expect(r.sessions).toBe(test.sessions.length);
      expect(r.labelled).toBe(test.sessions.length);
      // The reported AUC is the AUC of exactly what the scorer serves.
      const served = await loaded.scorer.score(test.sessions.map((s) => s.final));
      expect(r.churnRisk.rocAuc).toBeCloseTo(rocAuc(test.sessions.map((s) => s.label), served.map((s) => s.churnRisk)), 10);
      // Held out, every model ranks churners above chance by a margin (200 sessions: AUC SE ≈ 0.04),
      // and the calibrated risks beat predicting the training churn rate for everyone.
      for (const v of [r.churnRisk.rocAuc, r.fairBaseline.rocAuc, r.baseline.rocAuc, r.churnRiskHalfway!.rocAuc]) expect(v).toBeGreaterThan(0.6);
      expect(r.churnRisk.brier).toBeLessThan(r.baseRateBrier);
      expect(r.fairBaseline.brier).toBeLessThan(r.baseRateBrier);
      expect(r.churnRisk.reliability.reduce((a, b) => a + b.count, 0)).toBe(r.labelled);
      expect(Number.isFinite(r.ari!)).toBe(true);
      expect(r.baseline.how).toMatch(/trained on the \d+ labelled training sessions/);
      expect(r.fairBaseline.how).toMatch(/trained on the \d+ labelled training sessions/);
      // Alerts at the default setting: a session's highest state reaches a band at least as often as its final state.
      expect(r.alerts[0]).toMatchObject({ setting: 'medium=0.4,high=0.7', medium: 0.4, high: 0.7 });
      for (const band of ['medium', 'high'] as const) {
        const max = r.alerts[0]!.rows.find((a) => a.band === band && a.on === 'max')!;
        const fin = r.alerts[0]!.rows.find((a) => a.band === band && a.on === 'final')!;
        expect(max.alerted).toBeGreaterThanOrEqual(fin.alerted);
        expect(max.share).toBeCloseTo(max.alerted / r.labelled, 10);
      }
      const medium = r.alerts[0]!.rows.find((a) => a.band === 'medium' && a.on === 'final')!;
      expect(medium.alerted).toBe(served.filter((s) => s.churnRisk >= 0.4).length);
      const table = formatEvalTable(r, 'held out');
      expect(table).toContain(`ROC AUC: ${r.churnRisk.rocAuc.toFixed(3)}`);
      expect(table).toContain('ARI vs archetypes');
      expect(table).toMatch(/\| fair baseline: logistic regression on log per-type counts \+ the readout's time facts .* \| 0\.\d{3} \| 0\.\d{3} \| 0\.\d{4} \|/);
      expect(table).toMatch(/^churnRisk − fair baseline: [+-]\d\.\d{3} ROC AUC\.$/m);
      expect(table).toMatch(/^Reliability of churnRisk \(bins of 0\.1: .*\): (\d\.\d{2}→\d\.\d{2} \(\d+\)(, )?)+\.$/m);
      expect(table).toMatch(/\| medium or high \| highest state \| \d+ \| \d+\.\d% \|/);
      const cv = await evaluateBundle(loaded, test);
      expect(cv.baseline.how).toMatch(/5-fold/);
      expect(cv.churnRisk).toEqual(r.churnRisk);
    } finally {
      await loaded.scorer.close();
    }
  });

  it("an alert budget becomes thresholds from the bundle's stored risk distribution, and about that share of fresh sessions reach the band", async () => {
    const risk = parseRiskSetting('medium=top30%,high=top10%');
    const loaded = await loadBundle(bundle, { encoder: 'inline', risk });
    try {
      const q = loaded.readoutRiskQuantiles!;
      expect(loaded.thresholds.medium).toBeCloseTo(quantileAt(q, 0.7), 10);
      expect(loaded.thresholds.high).toBeCloseTo(quantileAt(q, 0.9), 10);
      const test = await loadTrainingData({ events: join(dir, 'test', 'events.jsonl'), labels: join(dir, 'test', 'labels.csv') });
      const r = await evaluateBundle(loaded, test, { risk });
      expect(r.alerts[0]!.setting).toBe('medium=top30%,high=top10%');
      const share = (band: 'medium' | 'high') => r.alerts[0]!.rows.find((a) => a.band === band && a.on === 'max')!.share;
      expect(Math.abs(share('medium') - 0.3)).toBeLessThan(0.12);
      expect(Math.abs(share('high') - 0.1)).toBeLessThan(0.08);
      // the same figures as one more setting beside the default one (how eval:kdd reports budgets)
      const plain = await loadBundle(bundle, { encoder: 'inline' });
      try {
        const both = await evaluateBundle(plain, test, { moreRisks: [risk] });
        expect(both.alerts.map((a) => a.setting)).toEqual(['medium=0.4,high=0.7', 'medium=top30%,high=top10%']);
        expect(both.alerts[1]).toEqual(r.alerts[0]);
      } finally {
        await plain.scorer.close();
      }
    } finally {
      await loaded.scorer.close();
    }
  });

  it('eval --out writes the table; --days keeps the first days only', async () => {
    const out = join(dir, 'quality.md');
    const table = await runEval({ bundle, events: join(dir, 'test', 'events.jsonl'), labels: join(dir, 'test', 'labels.csv'), out, days: 1 });
    expect(table).toMatch(/^ROC AUC: \d\.\d{3}$/m);
    expect(table).toContain('first 1 days');
    expect(readFileSync(out, 'utf8')).toContain(table);
  });
});
