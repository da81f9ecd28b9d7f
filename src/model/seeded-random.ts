// A small seeded PRNG so clustering, sub-sampling and train/test splits are reproducible
// from a seed stored with the model (Math.random cannot be seeded).

// One implementation for the whole model part (src/model/rng.ts); these names are kept for the
// clustering code that reads better with them.
export { mulberry32 as seededRandom, shuffledIndices as seededPermutation } from './rng.ts';

/** A standard normal draw (Box–Muller). */
export function gaussian(random: () => number): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
