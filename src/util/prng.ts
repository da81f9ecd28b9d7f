// The one seeded PRNG (mulberry32: 32 bits of state, full period 2^32). Simulated data must be
// the same bytes on every run and platform, and weight init, shuffles, clustering and splits
// must be reproducible from the seed stored with a model; Math.random cannot be seeded, and
// library generators may change between versions.
//
// Two seedings, kept because existing outputs depend on them bit for bit:
// - `new Rng(seed)`: the seed's digits are hashed first, so nearby seeds (1, 2, 3) do not start
//   on correlated streams (the simulator's seeding);
// - `Rng.fromState(seed)` / `seededRandom(seed)`: the seed is the state itself (mulberry32's own
//   seeding), as the model and training code has always seeded it.
import { fnv1a32 } from './hash.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

/** A uniform draw in [0, 1). */
export type Random = () => number;

export class Rng {
  private state: number;

  /** Hashes the seed into the initial state; see `fromState` for the unhashed seeding. */
  constructor(seed: number, seeding: 'hashed' | 'state' = 'hashed') {
    this.state = seeding === 'hashed' ? fnv1a32(String(seed >>> 0), 0x9e3779b9) : seed >>> 0;
  }

  /** mulberry32 seeded with `state` as it is. */
  static fromState(state: number): Rng {
    return new Rng(state, 'state');
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A 32-bit integer, for seeding child generators. */
  nextUint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple to reason about). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and log-space sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Index drawn with probability proportional to weights[i]. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new JourneylensError(ErrorCodes.INTERNAL, 'pick from an empty list');
    return item;
  }

  /** 16 bytes, e.g. an Avro sync marker that must be reproducible. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

/** The generator as a plain function, seeded with `seed` as its state (Rng.fromState). */
export function seededRandom(seed: number): Random {
  const rng = Rng.fromState(seed);
  return () => rng.next();
}

/** Fisher–Yates shuffle of 0..n-1 driven by `random`. */
export function seededPermutation(n: number, random: Random): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

/** A standard normal draw (Box–Muller) from a plain generator; rejects u = 0 so log stays finite. */
export function gaussian(random: Random): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
