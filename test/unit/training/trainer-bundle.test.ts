import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRender } from '../../../src/commands/render.ts';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { loadBundle } from '../../../src/model/bundle.ts';
import { type BundleManifest } from '../../../src/contracts/bundle-format.ts';
import { writeManifest } from '../../../src/training/bundle-writer.ts';
import { defaultImageSpec } from '../../../src/journey/image-spec.ts';
import { trainBundle } from '../../../src/training/trainer.ts';
import { loadTrainingData } from '../../../src/training/training-data.ts';
import { writeSimulationFiles } from '../../../src/sim/files.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { type SessionClose } from '../../../src/journey/session-view.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jl-trainer-'));
  dirs.push(d);
  return d;
}

describe('training data, trainer and bundle', () => {
  let data: string;
  let bundleA: string;
  let bundleB: string;
  let events: ClickEvent[];

  beforeAll(async () => {
    data = tempDir();
    await writeSimulationFiles({ sessions: 240, seed: 11, outDir: data });
    events = readFileSync(join(data, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ClickEvent);
    bundleA = tempDir();
    bundleB = tempDir();
    const opts = { seed: 5, epochs: 2, clusterer: 'kmeans' as const, k: 4 };
    const td = await loadTrainingData({ events: join(data, 'events.jsonl'), labels: join(data, 'labels.csv') });
    await trainBundle(td, bundleA, opts);
    const td2 = await loadTrainingData({ events: join(data, 'events.jsonl'), labels: join(data, 'labels.csv') });
    await trainBundle(td2, bundleB, opts);
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sessionizes history exactly as the live pipeline closes sessions, with labels, archetypes and prefixes', async () => {
    const td = await loadTrainingData({ events: join(data, 'events.jsonl'), labels: join(data, 'labels.csv') });
    const store = new SessionStore(defaultImageSpec, td.spec.sessionization);
    const live = new Map<string, SessionClose>();
    from(events.map((event, i) => ({ event, partition: 0, offset: BigInt(i) })))
      .pipe(journeySessions({ store, closeOnComplete: true }))
      .subscribe((o) => {
        if (o.kind === 'close') live.set(o.sessionId, o);
      });
    expect(td.sessions.length).toBe(live.size);
    expect(td.events).toBe(events.length);
    const labels = new Map(readFileSync(join(data, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]));
    const archetypes = new Map(readFileSync(join(data, 'archetypes.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]));
    for (const s of td.sessions) {
      const want = live.get(s.sessionId)!;
      expect(Array.from(s.final.rasterize())).toEqual(Array.from(want.rasterize()));
      expect(s.eventCount).toBe(want.eventCount);
      expect(s.label).toBe(Number(labels.get(s.userId!)));
      expect(s.archetype).toBe(archetypes.get(s.sessionId));
      expect(s.summary.stats?.events).toBe(events.filter((e) => e.sessionId === s.sessionId).length);
      // prefixes: earlier states (fewer events, or the last one before the close's quiet), in time order
      const counts = s.prefixes.map((p) => p.eventCount);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      for (const p of s.prefixes) {
        expect(p.eventCount).toBeLessThanOrEqual(s.eventCount);
        expect(p.asOf).toBeLessThan(s.final.asOf);
      }
      // the final describes the session when it closed, as the live close does: a gap close at
      // its deadline (last event + gap)
      expect(s.final.asOf).toBe(want.asOf);
      if (want.reason === 'gap') expect(want.asOf).toBe(want.windowEnd + td.spec.sessionization.gapMs);
      if (s.eventCount >= 8) expect(s.prefixes.length).toBeGreaterThanOrEqual(2);
    }
    expect(td.hasArchetypes).toBe(true);
    expect(td.labelRate).toBe(1);
  });

  it('drops events past the horizon and users outside the given set', async () => {
    const first = events[0]!.timestamp;
    const td = await loadTrainingData({ events: join(data, 'events.jsonl'), horizonMs: 86_400_000 });
    expect(td.events).toBe(events.filter((e) => e.timestamp < first + 86_400_000).length);
    expect(td.labelRate).toBe(0);
    const some = new Set(events.slice(0, 50).map((e) => e.userId!));
    const sub = await loadTrainingData({ events: join(data, 'events.jsonl'), users: some });
    expect(sub.sessions.every((s) => some.has(s.userId!))).toBe(true);
  });

  it('writes identical bundle files for the same data and seed (the manifest differs only in timings)', () => {
    const files = readdirSync(bundleA).sort();
    expect(files).toEqual(readdirSync(bundleB).sort());
    expect(files).toEqual(expect.arrayContaining(['encoder.json', 'encoder.weights.bin', 'clusters.json', 'centroids.hnsw', 'neighbours.hnsw', 'readout.json', 'manifest.json']));
    for (const f of files) if (f !== 'manifest.json') expect(readFileSync(join(bundleA, f)).equals(readFileSync(join(bundleB, f))), f).toBe(true);
    const a = JSON.parse(readFileSync(join(bundleA, 'manifest.json'), 'utf8')) as { modelVersion: string; files: unknown; metrics: unknown };
    const b = JSON.parse(readFileSync(join(bundleB, 'manifest.json'), 'utf8')) as { modelVersion: string; files: unknown; metrics: unknown };
    expect(a.modelVersion).toBe(b.modelVersion);
    expect(a.files).toEqual(b.files);
    expect(a.metrics).toEqual(b.metrics);
  });

  // a worker thread loads the WASM backend and the bundle on its own: 1.5 s on a quiet box, over
  // the unit tier's 30 s beside a training run on a loaded one
  it('loads a bundle and scores views in order, the same in the worker as inline', { timeout: 120_000 }, async () => {
    const td = await loadTrainingData({ events: join(data, 'events.jsonl'), labels: join(data, 'labels.csv') });
    const views = td.sessions.slice(0, 40).map((s) => s.final);
    const worker = await loadBundle(bundleA);
    const inline = await loadBundle(bundleA, { encoder: 'inline' });
    try {
      let encoded = 0;
      worker.scorer.onEncode = (n) => (encoded += n);
      const got = await worker.scorer.score(views);
      const want = await inline.scorer.score(views);
      expect(encoded).toBe(40);
      expect(got.length).toBe(40);
      const ids = new Set(worker.clusters.map((c) => c.id));
      got.forEach((s, i) => {
        expect(ids.has(s.clusterId)).toBe(true);
        expect(s.clusterId).toBe(want[i]!.clusterId);
        expect(s.churnRisk).toBeCloseTo(want[i]!.churnRisk, 5);
        expect(s.churnRisk).toBeGreaterThanOrEqual(0);
        expect(s.churnRisk).toBeLessThanOrEqual(1);
        expect(['low', 'medium', 'high']).toContain(s.riskBand);
      });
      expect(worker.scorer.modelVersion).toBe(worker.manifest.modelVersion);
      expect(worker.imageSpec).toEqual(defaultImageSpec);
      const before = worker.scorer.tensorCount();
      await worker.scorer.score(views);
      await worker.scorer.score(views);
      expect(worker.scorer.tensorCount()).toBe(before);
    } finally {
      await worker.scorer.close();
      await inline.scorer.close();
    }
  });

  it('refuses a bundle with one changed weights byte, naming the file', async () => {
    const copy = tempDir();
    for (const f of readdirSync(bundleA)) writeFileSync(join(copy, f), readFileSync(join(bundleA, f)));
    const w = readFileSync(join(copy, 'encoder.weights.bin'));
    w[100] = w[100]! ^ 0x01;
    writeFileSync(join(copy, 'encoder.weights.bin'), w);
    await expect(loadBundle(copy)).rejects.toThrow(/encoder\.weights\.bin does not match its checksum/);
    await expect(loadBundle(copy)).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });

  it('refuses a readout that asks for a feature the bundle cannot compute, naming readout.json', async () => {
    const copy = tempDir();
    for (const f of readdirSync(bundleA)) writeFileSync(join(copy, f), readFileSync(join(bundleA, f)));
    const readout = JSON.parse(readFileSync(join(copy, 'readout.json'), 'utf8')) as { featureNames: string[] };
    readout.featureNames[0] = 'emb99';
    writeFileSync(join(copy, 'readout.json'), JSON.stringify(readout));
    const { files: _f, formatVersion: _v, ...rest } = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as BundleManifest;
    rmSync(join(copy, 'manifest.json'));
    writeManifest(copy, rest);
    await expect(loadBundle(copy)).rejects.toThrow(/readout\.json uses the feature "emb99"/);
  });

  it('refuses a bundle whose image spec differs from the running pipeline', async () => {
    await expect(loadBundle(bundleA, { expectSpec: { ...defaultImageSpec, rows: 16 } })).rejects.toThrow(/image spec differs/);
  });

  it("renders a cluster's prototype with its label, and names the valid ids for an unknown one", async () => {
    const clusters = (JSON.parse(readFileSync(join(bundleA, 'clusters.json'), 'utf8')) as { clusters: { id: number; label: string }[] }).clusters;
    const out = join(tempDir(), 'c.png');
    const r = await runRender({ bundle: bundleA, cluster: clusters[0]!.id, out, scale: 8 });
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
    expect(r.summary).toContain(clusters[0]!.label);
    await expect(runRender({ bundle: bundleA, cluster: 999, out, scale: 8 })).rejects.toThrow(/no such cluster; its clusters are 0, 1/);
  });
});
