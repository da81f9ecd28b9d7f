// The archetypes must be recoverable from the event sequences alone: the default model is
// trained on this data and its clusters are judged against these ground-truth labels.
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES } from '../../../src/journey/image-spec.ts';
import { ARCHETYPES } from '../../../src/sim/archetypes.ts';
import { generate } from '../../../src/sim/generator.ts';
import { Rng } from '../../../src/util/prng.ts';

const TYPES: string[] = [...DEFAULT_EVENT_TYPES];
const SECTIONS = ['', 'category', 'search', 'product', 'cart', 'checkout', 'help', 'account'];

interface SessionFeatures {
  archetype: string;
  types: number[];
  sections: number[];
  n: number;
  logDwell: number;
}

/** What a journey image holds, summarised: event-type and page-section shares, length, dwell. */
function sessions(seed: number, count: number): SessionFeatures[] {
  const by = new Map<string, SessionFeatures>();
  for (const { event, archetype } of generate({ sessions: count, seed })) {
    let s = by.get(event.sessionId);
    if (!s) by.set(event.sessionId, (s = { archetype, types: new Array(TYPES.length + 1).fill(0), sections: new Array(SECTIONS.length + 1).fill(0), n: 0, logDwell: 0 }));
    const t = TYPES.indexOf(event.type);
    s.types[t < 0 ? TYPES.length : t]!++;
    const sec = SECTIONS.indexOf((event.page ?? '/').split('/')[1] ?? '');
    s.sections[sec < 0 ? SECTIONS.length : sec]!++;
    s.n++;
    s.logDwell += Math.log(event.durationMs ?? 1);
  }
  return [...by.values()];
}

function standardize(X: number[][], weights: number[]): void {
  for (let d = 0; d < X[0]!.length; d++) {
    const m = X.reduce((s, x) => s + x[d]!, 0) / X.length;
    const sd = Math.sqrt(X.reduce((s, x) => s + (x[d]! - m) ** 2, 0) / X.length) || 1;
    for (const x of X) x[d] = ((weights[d] ?? 1) * (x[d]! - m)) / sd;
  }
}

function dist2(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

/** k-means++ with restarts; returns the labelling with the lowest inertia. */
function kmeans(X: number[][], k: number, restarts: number, rng: Rng): number[] {
  let best: { labels: number[]; inertia: number } = { labels: [], inertia: Infinity };
  for (let r = 0; r < restarts; r++) {
    const C = [X[rng.int(0, X.length - 1)]!.slice()];
    while (C.length < k) C.push(X[rng.weighted(X.map((x) => Math.min(...C.map((c) => dist2(x, c)))))]!.slice());
    let labels: number[] = [];
    for (let it = 0; it < 40; it++) {
      labels = X.map((x) => C.reduce((b, c, j) => (dist2(x, c) < dist2(x, C[b]!) ? j : b), 0));
      for (let j = 0; j < k; j++) {
        const members = X.filter((_, i) => labels[i] === j);
        if (members.length > 0) C[j] = members[0]!.map((_, d) => members.reduce((s, x) => s + x[d]!, 0) / members.length);
      }
    }
    const inertia = X.reduce((s, x, i) => s + dist2(x, C[labels[i]!]!), 0);
    if (inertia < best.inertia) best = { labels, inertia };
  }
  return best.labels;
}

function adjustedRand(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  const table = new Map<string, number>();
  const rows = new Map<string | number, number>();
  const cols = new Map<string | number, number>();
  a.forEach((x, i) => {
    const y = b[i]!;
    table.set(`${x}\u0000${y}`, (table.get(`${x}\u0000${y}`) ?? 0) + 1);
    rows.set(x, (rows.get(x) ?? 0) + 1);
    cols.set(y, (cols.get(y) ?? 0) + 1);
  });
  const index = [...table.values()].reduce((s, v) => s + pairs(v), 0);
  const sa = [...rows.values()].reduce((s, v) => s + pairs(v), 0);
  const sb = [...cols.values()].reduce((s, v) => s + pairs(v), 0);
  const expected = (sa * sb) / pairs(a.length);
  return (index - expected) / ((sa + sb) / 2 - expected);
}

describe('archetype separability', () => {
  it('adjustedRand is 1 for identical partitions and about 0 for unrelated ones', () => {
    expect(adjustedRand(['a', 'a', 'b', 'b'], [1, 1, 0, 0])).toBeCloseTo(1);
    const rng = new Rng(1);
    const x = Array.from({ length: 4000 }, () => rng.int(0, 5));
    const y = Array.from({ length: 4000 }, () => rng.int(0, 5));
    expect(Math.abs(adjustedRand(x, y))).toBeLessThan(0.02);
  });

  it.each([3, 11])('an unsupervised k-means on session summaries recovers the archetypes (seed %i, ARI ≥ 0.8)', (seed) => {
    const S = sessions(seed, 2000);
    const X = S.map((s) => [...s.types.map((c) => c / s.n), ...s.sections.map((c) => c / s.n), Math.log(s.n), s.logDwell / s.n]);
    const dims = X[0]!.length;
    // Length and dwell are two numbers against twenty shares: weigh them up so they count.
    standardize(X, Array.from({ length: dims }, (_, d) => (d >= dims - 2 ? 2.5 : 1)));
    const labels = kmeans(X, ARCHETYPES.length, 8, new Rng(seed));
    expect(adjustedRand(S.map((s) => s.archetype), labels)).toBeGreaterThanOrEqual(0.8);
  });

  it('gives every pair of archetypes clearly different event-type or length profiles', () => {
    const S = sessions(5, 3000);
    const profile = new Map<string, { hist: number[]; meanLog: number }>();
    for (const a of ARCHETYPES) {
      const mine = S.filter((s) => s.archetype === a);
      const hist = new Array(TYPES.length + 1).fill(0);
      let events = 0;
      for (const s of mine) {
        s.types.forEach((c, i) => (hist[i] += c));
        events += s.n;
      }
      profile.set(a, { hist: hist.map((c) => c / events), meanLog: mine.reduce((x, s) => x + Math.log(s.n), 0) / mine.length });
    }
    for (const a of ARCHETYPES) {
      for (const b of ARCHETYPES) {
        if (a >= b) continue;
        const pa = profile.get(a)!;
        const pb = profile.get(b)!;
        const totalVariation = pa.hist.reduce((s, p, i) => s + Math.abs(p - pb.hist[i]!), 0) / 2;
        const lengthRatio = Math.exp(Math.abs(pa.meanLog - pb.meanLog));
        // Either the event mix differs by a third of its mass, or sessions are 2x longer.
        expect(totalVariation > 0.33 || lengthRatio > 2, `${a} vs ${b}: TV ${totalVariation.toFixed(2)}, length ×${lengthRatio.toFixed(1)}`).toBe(true);
      }
    }
  });
});
