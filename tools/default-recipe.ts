// How models/default is made (tools/train-default.ts), and so which population its baselines are
// fitted on when eval:kdd scores it on fresh generator sessions (tools/eval-kdd.ts).
export const DEFAULT_BUNDLE = {
  /** Simulated sessions and the simulator's seed. */
  sessions: 20_000,
  simSeed: 2026,
  trainSeed: 42,
  dim: 16,
  epochs: 10,
} as const;
