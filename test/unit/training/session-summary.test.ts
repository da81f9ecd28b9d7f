import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { buildCentroids, describeClusters } from '../../../src/training/centroids.ts';
import { labelClusters } from '../../../src/training/cluster-labels.ts';
import { sessionStatWords, summariseSession } from '../../../src/training/session-summary.ts';

const ev = (i: number, type: string, timestamp: number, durationMs: number | null = null, value: number | null = null): ClickEvent => ({
  eventId: `e${i}`,
  sessionId: 's',
  userId: null,
  timestamp,
  type,
  page: null,
  durationMs,
  value,
  properties: {},
});

describe('summariseSession', () => {
  it('orders by event time, collapses repeats in the path, and computes stats', () => {
    const s = summariseSession([ev(3, 'checkout', 3000, 100, 50), ev(1, 'search', 1000, 300), ev(2, 'search', 2000, 500)]);
    expect(s.path).toEqual(['search', 'checkout']);
    expect(s.types).toEqual({ search: 2, checkout: 1 });
    expect(s.stats).toEqual({ events: 3, durationMs: 2000, value: 50, dwellMs: 300 });
  });
  it('feeds labelClusters with readable stat words', () => {
    const sessions = [
      ...Array.from({ length: 10 }, (_, i) => [ev(i, 'search', 0, 60_000), ev(i, 'compare', 1000, 90_000)]),
      ...Array.from({ length: 10 }, (_, i) => [ev(i, 'add_to_cart', 0, 1000), ev(i, 'checkout', 500, 1000), ev(i, 'purchase', 900, 1000, 80)]),
    ];
    const labels = labelClusters(sessions.map(summariseSession), [...Array(10).fill(0), ...Array(10).fill(1)], { statWords: sessionStatWords, maxStats: 4 });
    expect(labels.get(0)).toBe('search → compare → leave, few events, long session, low value, long dwell');
    expect(labels.get(1)).toMatch(/^add to cart → checkout → purchase → leave, /);
  });
});

describe('describeClusters', () => {
  it('gives one clusters.json row per cluster with its label, size, rate and widest radius', () => {
    const points = [...Array.from({ length: 10 }, (_, i) => [i * 0.1]), ...Array.from({ length: 10 }, (_, i) => [10 + i])];
    const model = buildCentroids(points, [...Array(10).fill(0), ...Array(10).fill(1)], undefined, { maxCentroidSize: 5 });
    const rows = describeClusters(model, new Map([[1, 'wide']]));
    expect(rows.map((r) => [r.id, r.label, r.size, r.centroids])).toEqual([
      [0, 'cluster 0', 10, 2],
      [1, 'wide', 10, 2],
    ]);
    expect(rows[1]!.radius).toBe(Math.max(...model.centroids.filter((c) => c.clusterId === 1).map((c) => c.radius)));
  });
});
