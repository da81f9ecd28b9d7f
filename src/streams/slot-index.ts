// A string → slot map for the session store: open addressing with linear probing over an
// Int32Array, plus each slot's key. A JS Map entry costs ~40 B per session; this costs 4–8 B of
// table, which matters at a million open sessions. Key hashes are not stored (4 B per session):
// a probe compares keys (V8 compares lengths first), and the rare moves (a deletion's backward
// shift, growth) hash the keys they move again.
import { fnv1a32 } from '../util/hash.ts';

const EMPTY = -1;

export class SlotIndex {
  #table = new Int32Array(0);
  #mask = 0;
  #keys: (string | undefined)[] = [];
  #size = 0;

  constructor(capacity: number) {
    this.grow(capacity);
  }

  /** Number of keys in the table. */
  get size(): number {
    return this.#size;
  }

  /** Makes room for slots [0, capacity). */
  grow(capacity: number): void {
    this.#keys.length = capacity;
    // load factor ≤ 2/3
    let size = 16;
    while (size < capacity * 1.5) size *= 2;
    if (size <= this.#table.length) return;
    const old = this.#table;
    this.#table = new Int32Array(size).fill(EMPTY);
    this.#mask = size - 1;
    for (const slot of old) if (slot !== EMPTY) this.#place(slot);
  }

  keyOf(slot: number): string | undefined {
    return this.#keys[slot];
  }

  /** The slot of `key`, or -1. */
  get(key: string): number {
    const i = this.#find(key, fnv1a32(key));
    return i === EMPTY ? EMPTY : this.#table[i]!;
  }

  /** Points `key` at `slot` (replacing the key's previous slot, if any) and records the slot's key. */
  set(key: string, slot: number): void {
    this.#keys[slot] = key;
    const i = this.#find(key, fnv1a32(key));
    if (i !== EMPTY) {
      this.#table[i] = slot;
      return;
    }
    this.#place(slot);
    this.#size++;
  }

  /** Removes `key` from the table (slots keep their recorded key until `forget`). */
  delete(key: string): void {
    let i = this.#find(key, fnv1a32(key));
    if (i === EMPTY) return;
    this.#size--;
    // backward-shift deletion keeps probe chains intact without tombstones
    const t = this.#table;
    const mask = this.#mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = t[j]!;
      if (s === EMPTY) break;
      const home = fnv1a32(this.#keys[s]!) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        t[i] = s;
        i = j;
      }
    }
    t[i] = EMPTY;
  }

  forget(slot: number): void {
    this.#keys[slot] = undefined;
  }

  #find(key: string, h: number): number {
    const t = this.#table;
    const mask = this.#mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = t[i]!;
      if (s === EMPTY) return EMPTY;
      if (this.#keys[s] === key) return i;
    }
  }

  #place(slot: number): void {
    const t = this.#table;
    const mask = this.#mask;
    let i = fnv1a32(this.#keys[slot]!) & mask;
    while (t[i] !== EMPTY) i = (i + 1) & mask;
    t[i] = slot;
  }
}
