// What the session store asks of a row layout (steps or buckets mode): per-slot rows that are
// opened, added to, merged (two sessions of one user), and copied out as a journey image's rows.
import { type PackedRows } from '../journey/rasterize.ts';
import { type ClickEvent } from '../contracts/records.ts';

export interface SlotRows {
  /** Makes room for slots [0, capacity). */
  grow(capacity: number): void;
  /** Resets a recycled slot for a new session (the header is set by the store). */
  open(slot: number): void;
  /** Adds an event; false for a duplicate. `fullFp` is the eventId's 32-bit fingerprint, `type` its column. */
  add(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean;
  /** Event time of the session's newest event. */
  lastTs(slot: number): number;
  /** Folds the rows of `from` into `into` (the store then adds the counts and frees `from`). */
  merge(from: number, into: number): void;
  /** A detached copy of the slot's rows, the time span they cover and its recent event types. */
  view(slot: number, typeName: (t: number) => string): { rows: PackedRows; windowStart: number; windowEnd: number; recent: string[] };
}
