import { describe, expect, it } from 'vitest';
import { labelClusters, type SessionSummary } from '../../../src/training/cluster-labels.ts';
import { seededRandom } from '../../../src/util/prng.ts';

function sessions(): { summaries: SessionSummary[]; clusters: number[] } {
  const random = seededRandom(11);
  const summaries: SessionSummary[] = [];
  const clusters: number[] = [];
  const add = (cluster: number, path: string[], dwellMs: number, events: number) => {
    const types: Record<string, number> = {};
    for (const t of path) types[t] = (types[t] ?? 0) + 1;
    summaries.push({ path, types, stats: { dwellMs: dwellMs * (0.8 + 0.4 * random()), events } });
    clusters.push(cluster);
  };
  for (let i = 0; i < 40; i++) add(0, ['page_view', 'search', 'compare', ...(i % 4 === 0 ? ['page_view'] : [])], 90_000, 4);
  for (let i = 0; i < 40; i++) add(1, ['page_view', 'product_view', 'add_to_cart', 'checkout', 'purchase'], 10_000, 5);
  // Cluster 2 reports no paths, only its event mix.
  for (let i = 0; i < 40; i++) {
    summaries.push({ types: { support_contact: 3, page_view: 1 }, stats: { dwellMs: 40_000 * (0.8 + 0.4 * random()), events: 4 } });
    clusters.push(2);
  }
  add(-1, ['logout'], 1000, 1);
  return { summaries, clusters };
}

describe('labelClusters', () => {
  const { summaries, clusters } = sessions();
  const labels = labelClusters(summaries, clusters, {
    statWords: { dwellMs: ['short dwell', 'long dwell'] },
    typeNames: { add_to_cart: 'cart' },
  });

  it('describes a cluster by its over-represented path, ending in "leave", and its distinctive stats', () => {
    expect(labels.get(0)).toBe('search → compare → leave, long dwell, low events');
  });
  it('uses display names and chains the common continuation', () => {
    expect(labels.get(1)).toBe('product view → cart → checkout → purchase, high events, short dwell');
  });
  it('falls back to the distinctive event type when no path stands out', () => {
    expect(labels.get(2)).toMatch(/^mostly support contact/);
  });
  it('labels noise and keeps labels unique', () => {
    expect(labels.get(-1)).toBe('unclustered');
    const twins = labelClusters([{ stats: { x: 1 } }, { stats: { x: 1 } }, { stats: { x: 5 } }], [0, 1, 2]);
    expect(twins.get(0)).toBe('low x');
    expect(twins.get(1)).toBe('low x (#1)');
    expect(twins.get(2)).toBe('high x');
  });
  it('gives a neutral name when nothing distinguishes a cluster, and rejects mismatched inputs', () => {
    expect(labelClusters([{}, {}], [0, 0]).get(0)).toBe('cluster 0');
    expect(() => labelClusters([{}], [0, 1])).toThrow(/1 summaries but 2 cluster ids/);
  });
});
