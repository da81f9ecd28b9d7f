// A flood of distinct session ids (bots, a tracker bug) against the session cap, in process:
// 2,000,000 one-event sessions plus 1,000 regular sessions that stay active (500 events each), through the
// sessionizer with a cap of 200,000. Memory stays bounded (RSS), every eviction is a final
// marked 'evicted' and counted, and the regular sessions keep every event.
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { defaultImageSpec, defaultSessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type ClickEnvelope } from '../../../src/streams/outcomes.ts';
import { SESSION_BYTES_BUDGET, SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';

const FLOOD = 2_000_000;
const REGULARS = 1000;
const CAP = 200_000;
// The bound on RSS growth over the flood: the cap's state (CAP × 512 B ≈ 98 MiB) plus the
// garbage of 1.8 million evicted finals between collections (measured: 424–470 MiB under
// vitest). Without the cap the same flood keeps FLOOD × ~500 B ≈ 950 MiB alive: RSS grows by
// more than 1 GiB.
const RSS_GROWTH_BOUND = 640 * 2 ** 20;
const T0 = Date.UTC(2026, 10, 1);
// The flood is fixed, synchronous work (~15-20 s of CPU, printed as cpuSeconds) that waits on
// nothing, so a timeout only guards against a hang; vitest fails a synchronous test that ran past
// it even when every assertion held. Under a full `npm test` on shared cores the process gets a
// fraction of a core: 180 s was too tight there, so the guard allows 20 times the CPU time.
const FLOOD_TIMEOUT_MS = 900_000;
const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

describe('a flood of distinct sessions against the session cap', () => {
  it('keeps RSS bounded, counts every eviction as an evicted final and loses nothing of the sessions it keeps', () => {
    global.gc?.();
    const startedAt = Date.now();
    const cpuBefore = process.cpuUsage();
    const rssBefore = process.memoryUsage.rss();
    const store = new SessionStore(defaultImageSpec, defaultSessionizationSpec, { maxSessions: CAP, initialCapacity: CAP });
    const sent = new Array<number>(REGULARS).fill(0);
    // after every fourth flood record comes a regular session's, round robin: each is active every 5,000 records
    const records = new Observable<ClickEnvelope>((sub) => {
      let offset = 0n;
      for (let i = 0; i < FLOOD; i++) {
        const ts = T0 + i;
        sub.next({ event: { eventId: `f${i}`, sessionId: `flood-${i}`, userId: null, timestamp: ts, type: 'page_view', page: '/', durationMs: null, value: null, properties: {} }, partition: i % 8, offset: offset++ });
        if (i % 4 === 3) {
          const r = (i >> 2) % REGULARS;
          sent[r]!++;
          sub.next({ event: { eventId: `r${r}-${sent[r]}`, sessionId: `regular-${r}`, userId: `u${r}`, timestamp: ts, type: 'product_view', page: '/p', durationMs: 1000, value: null, properties: {} }, partition: r % 8, offset: offset++ });
        }
      }
      sub.complete();
    });

    let peakRss = rssBefore;
    let events = 0;
    let evictedFinals = 0;
    let evictedRegulars = 0;
    let evictedWithOtherCounts = 0;
    let otherFinals = 0;
    const regularFinals = new Map<string, number>();
    records.pipe(sessionize({ store })).subscribe((o) => {
      if (o.kind === 'changed' && ++events % 100_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (o.kind !== 'close') return;
      if (o.reason === 'evicted') {
        evictedFinals++;
        if (o.sessionId.startsWith('regular-')) evictedRegulars++;
        else if (o.eventCount !== 1) evictedWithOtherCounts++;
      } else {
        otherFinals++;
        if (o.sessionId.startsWith('regular-')) regularFinals.set(o.sessionId, o.eventCount);
      }
    });
    peakRss = Math.max(peakRss, process.memoryUsage.rss());

    const sessions = FLOOD + REGULARS;
    const figures = { sessions, cap: CAP, evictions: store.evictions, peakRssMiB: Math.round(peakRss / 2 ** 20), rssGrowthMiB: Math.round((peakRss - rssBefore) / 2 ** 20), boundMiB: RSS_GROWTH_BOUND / 2 ** 20, stateMiB: Math.round((CAP * SESSION_BYTES_BUDGET) / 2 ** 20), cpuSeconds: Math.round(cpuSeconds(process.cpuUsage(cpuBefore))), wallSeconds: Math.round((Date.now() - startedAt) / 1000) };
    process.stdout.write(`${JSON.stringify({ flood: figures })}\n`);

    expect(events).toBe(FLOOD + FLOOD / 4);
    // every session beyond the cap was evicted, with its final, and counted
    expect(store.evictions).toBe(sessions - CAP);
    expect(evictedFinals).toBe(store.evictions);
    expect(evictedWithOtherCounts).toBe(0);
    expect(otherFinals).toBe(CAP);
    // the regular sessions were never the least recently active: kept, with every event
    expect(evictedRegulars).toBe(0);
    expect(regularFinals.size).toBe(REGULARS);
    for (const [id, count] of regularFinals) expect(count, id).toBe(sent[Number(id.slice('regular-'.length))]);
    expect(store.capacity).toBeLessThanOrEqual(CAP);
    expect(peakRss - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
  }, FLOOD_TIMEOUT_MS);
});
