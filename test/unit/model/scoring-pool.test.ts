import { join } from 'node:path';
import { from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedBundle, loadBundle } from '../../../src/model/bundle.ts';
import { defaultImageSpec } from '../../../src/journey/image-spec.ts';
import { type SessionView } from '../../../src/journey/session-view.ts';
import { generate } from '../../../src/sim/generator.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { packViews, packedInput, viewsInput } from '../../../src/model/view-batch.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'models', 'default');

function views(n: number, seed: number): SessionView[] {
  const store = new SessionStore(defaultImageSpec, { gapMs: 1_800_000, maxSessionMs: 86_400_000, allowedLatenessMs: 60_000 });
  const out: SessionView[] = [];
  from([...generate({ sessions: n, seed })].map((item, i) => ({ event: item.event, partition: 0, offset: BigInt(i) })))
    .pipe(journeySessions({ store }))
    .subscribe((o) => {
      if (o.kind === 'update' || o.kind === 'close') out.push(o);
    });
  return out;
}

describe('scoring in worker threads (ScoringPool)', () => {
  let inline: LoadedBundle;
  let pooled: LoadedBundle;
  beforeAll(async () => {
    inline = await loadBundle(dir, { encoder: 'inline' });
    pooled = await loadBundle(dir, { workers: 2 });
  }, 120_000);
  afterAll(async () => {
    await inline?.scorer.close();
    await pooled?.scorer.close();
  });

  it('packs views into typed arrays that rasterize to the very same images', () => {
    const vs = views(30, 5);
    const direct = viewsInput(vs);
    const packed = packedInput(packViews(vs, defaultImageSpec), defaultImageSpec);
    const size = defaultImageSpec.rows * 22;
    for (let i = 0; i < vs.length; i++) {
      const a = new Float32Array(size);
      const b = new Float32Array(size);
      direct.rasterize(i, a);
      packed.rasterize(i, b);
      expect(b).toEqual(a);
      expect(packed.timing(i)).toEqual({ asOf: vs[i]!.asOf, windowStart: vs[i]!.windowStart, windowEnd: vs[i]!.windowEnd, sessionStart: vs[i]!.sessionStart, eventCount: vs[i]!.eventCount });
    }
  });

  it('scores a batch sharded over two workers exactly as inline scoring does, in the batch order', async () => {
    const vs = views(200, 11);
    expect(pooled.scorer.workers).toBe(2);
    const [a, b] = await Promise.all([inline.scorer.score(vs), pooled.scorer.score(vs)]);
    expect(b.length).toBe(vs.length);
    b.forEach((s, i) => {
      expect(s.clusterId).toBe(a[i]!.clusterId);
      expect(s.clusterLabel).toBe(a[i]!.clusterLabel);
      expect(s.riskBand).toBe(a[i]!.riskBand);
      expect(s.churnRisk).toBeCloseTo(a[i]!.churnRisk, 5);
      expect(s.distance).toBeCloseTo(a[i]!.distance, 4);
    });
  });

  it('takes several batches in flight at once and accounts every scored view per stage', async () => {
    const before = pooled.scorer.costs();
    const batches = [views(40, 1), views(40, 2), views(40, 3)];
    const results = await Promise.all(batches.map((vs) => pooled.scorer.score(vs)));
    results.forEach((r, i) => expect(r.length).toBe(batches[i]!.length));
    const after = pooled.scorer.costs();
    expect(after.views - before.views).toBe(batches.reduce((a, vs) => a + vs.length, 0));
    expect(after.encode).toBeGreaterThan(before.encode);
    expect(after.neighbours).toBeGreaterThan(before.neighbours);
  });

  it('a retired scorer (hot reload) answers every batch already handed to it, then closes its workers', async () => {
    const old = await loadBundle(dir, { workers: 2 });
    const batches = [views(60, 21), views(60, 22), views(60, 23)];
    const pending = batches.map((vs) => old.scorer.score(vs));
    expect(old.scorer.batchesInFlight).toBe(3);
    let closed = false;
    const retired = old.scorer.retire().then(() => (closed = true));
    const results = await Promise.all(pending);
    results.forEach((r, i) => expect(r.length).toBe(batches[i]!.length));
    await retired;
    expect(closed).toBe(true);
    expect(old.scorer.batchesInFlight).toBe(0);
    await expect(old.scorer.score(views(5, 24))).rejects.toThrow(/closed/);
  }, 60_000);

  it('refuses a worker count below 1, naming the option', async () => {
    await expect(loadBundle(dir, { workers: 0 })).rejects.toThrow(/--scoring-workers must be a positive integer/);
  });
});
