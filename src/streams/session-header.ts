// The per-slot header columns that the session store and its row layouts (steps, buckets) both
// read and write: event count, the session's first event time, and (buckets mode) its last.
// Kept in one object so `grow` can replace the arrays under every user at once.

/** "None" in 32-bit unsigned columns (no previous row, saturated counts). */
export const NONE = 0xffff_ffff;

export class SessionHeader {
  /** Accepted events (duplicates excluded), saturating at NONE. */
  eventCount = new Uint32Array(0);
  /** Time of the session's first event: steps mode's origin for row offsets. */
  base = new Float64Array(0);
  /** Time of the session's last event (buckets mode only; steps mode reads it from the last row). */
  last = new Float64Array(0);

  constructor(private readonly withLast: boolean) {}

  /** Makes room for slots [0, capacity), keeping the values of existing slots. */
  grow(capacity: number): void {
    this.eventCount = grown(this.eventCount, capacity);
    this.base = grown(this.base, capacity);
    if (this.withLast) this.last = grown(this.last, capacity);
  }
}

/** A copy of `a` with room for `n` values (n ≥ a.length). */
export function grown<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | BigInt64Array>(a: T, n: number): T {
  const C = a.constructor as new (n: number) => T;
  const b = new C(n);
  b.set(a as never);
  return b;
}
