import { join } from 'node:path';
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/model/bundle.ts';
import { defaultImageSpec } from '../../../src/journey/image-spec.ts';
import { generate } from '../../../src/sim/generator.ts';
import { journeySessions } from '../../../src/streams/journey-sessions.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { type SessionView } from '../../../src/journey/session-view.ts';

describe('models/default (the shipped bundle)', () => {
  it('verifies against the default image spec and scores generated sessions', async () => {
    const bundle = await loadBundle(join(import.meta.dirname, '..', '..', '..', 'models', 'default'), { expectSpec: defaultImageSpec });
    try {
      expect(bundle.modelVersion).toMatch(/^[0-9a-f]{12}$/);
      expect(bundle.clusters.length).toBeGreaterThan(1);
      const store = new SessionStore(bundle.imageSpec, bundle.sessionization);
      const views: SessionView[] = [];
      from([...generate({ sessions: 50, seed: 99 })].map((item, i) => ({ event: item.event, partition: 0, offset: BigInt(i) })))
        .pipe(journeySessions({ store }))
        .subscribe((o) => {
          if (o.kind === 'update' || o.kind === 'close') views.push(o);
        });
      const scores = await bundle.scorer.score(views);
      expect(scores.length).toBe(views.length);
      const labels = new Map(bundle.clusters.map((c) => [c.id, c.label]));
      for (const s of scores) {
        expect(labels.get(s.clusterId)).toBe(s.clusterLabel);
        expect(s.churnRisk).toBeGreaterThan(0);
        expect(s.churnRisk).toBeLessThan(1);
      }
      expect(new Set(scores.map((s) => s.riskBand)).size).toBeGreaterThan(1);
    } finally {
      await bundle.scorer.close();
    }
  });
});
