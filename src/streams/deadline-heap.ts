// Per-partition binary min-heaps of session slots, ordered by each slot's close deadline (or its
// next quiet checkpoint): the watermark of a partition closes sessions from the top of its heap,
// so partitions never close each other's sessions. Deadlines and heap positions are columns
// indexed by slot, like the rest of the session store.
import { grown } from './session-header.ts';

class Heap {
  slots = new Int32Array(16);
  size = 0;
}

export class DeadlineHeaps {
  /** Per slot: its heap key (ms of event time). */
  #deadline = new Float64Array(0);
  /** Per slot: its index in its partition's heap, -1 when in none. */
  #heapPos = new Int32Array(0);
  readonly #heaps = new Map<number, Heap>();

  /** Makes room for slots [0, capacity). */
  grow(capacity: number): void {
    this.#deadline = grown(this.#deadline, capacity);
    this.#heapPos = grown(this.#heapPos, capacity);
  }

  deadline(slot: number): number {
    return this.#deadline[slot]!;
  }

  /** Number of slots in the partition's heap. */
  size(partition: number): number {
    return this.#heaps.get(partition)?.size ?? 0;
  }

  /** The slot with the earliest deadline, or -1 when the partition has none. */
  top(partition: number): number {
    const heap = this.#heaps.get(partition);
    return heap && heap.size > 0 ? heap.slots[0]! : -1;
  }

  /** The partition's slots, in heap order (a view: do not keep it across changes). */
  slots(partition: number): Int32Array {
    const heap = this.#heaps.get(partition);
    return heap ? heap.slots.subarray(0, heap.size) : new Int32Array(0);
  }

  /** Partitions with a heap (possibly empty), in insertion order. */
  partitions(): number[] {
    return [...this.#heaps.keys()];
  }

  /** Partitions with at least one slot. */
  nonEmpty(): number[] {
    return [...this.#heaps].filter(([, h]) => h.size > 0).map(([p]) => p);
  }

  push(partition: number, slot: number, deadline: number): void {
    let heap = this.#heaps.get(partition);
    if (!heap) {
      heap = new Heap();
      this.#heaps.set(partition, heap);
    }
    if (heap.size === heap.slots.length) {
      const bigger = new Int32Array(heap.slots.length * 2);
      bigger.set(heap.slots);
      heap.slots = bigger;
    }
    this.#deadline[slot] = deadline;
    heap.slots[heap.size] = slot;
    this.#heapPos[slot] = heap.size;
    heap.size++;
    this.#siftUp(heap, heap.size - 1);
  }

  remove(partition: number, slot: number): void {
    const heap = this.#heaps.get(partition)!;
    const i = this.#heapPos[slot]!;
    const lastSlot = heap.slots[heap.size - 1]!;
    heap.size--;
    this.#heapPos[slot] = -1;
    if (i === heap.size) return;
    heap.slots[i] = lastSlot;
    this.#heapPos[lastSlot] = i;
    this.#siftUp(heap, i);
    this.#siftDown(heap, this.#heapPos[lastSlot]!);
  }

  /**
   * Moves a slot's deadline earlier (a later one is ignored). The key may lag behind the real
   * deadline (it only grows as events arrive): re-sifting on every event would cost a cache miss
   * per heap level, so a stale key is corrected when it reaches the top (`retop`).
   */
  lower(partition: number, slot: number, deadline: number): void {
    if (deadline < this.#deadline[slot]!) {
      this.#deadline[slot] = deadline;
      this.#siftUp(this.#heaps.get(partition)!, this.#heapPos[slot]!);
    }
  }

  /** Gives the top slot of the partition a new (later) deadline. */
  retop(partition: number, deadline: number): void {
    const heap = this.#heaps.get(partition)!;
    this.#deadline[heap.slots[0]!] = deadline;
    this.#siftDown(heap, 0);
  }

  /** Forgets an emptied partition. */
  delete(partition: number): void {
    this.#heaps.delete(partition);
  }

  #siftUp(heap: Heap, i: number): void {
    const s = heap.slots;
    const slot = s[i]!;
    const d = this.#deadline[slot]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = s[p]!;
      if (this.#deadline[ps]! <= d) break;
      s[i] = ps;
      this.#heapPos[ps] = i;
      i = p;
    }
    s[i] = slot;
    this.#heapPos[slot] = i;
  }

  #siftDown(heap: Heap, i: number): void {
    const s = heap.slots;
    const n = heap.size;
    const slot = s[i]!;
    const d = this.#deadline[slot]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#deadline[s[r]!]! < this.#deadline[s[l]!]! ? r : l;
      const cs = s[c]!;
      if (this.#deadline[cs]! >= d) break;
      s[i] = cs;
      this.#heapPos[cs] = i;
      i = c;
    }
    s[i] = slot;
    this.#heapPos[slot] = i;
  }
}
