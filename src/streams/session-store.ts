// Compact per-session state for the sessionizer. One open session = one slot in a set of
// column arrays (structure of arrays), so a million sessions cost a few hundred MB of flat
// typed arrays plus a hash-table entry and three strings each, instead of an object graph (an
// RxJS groupBy group per session costs ~2 KB). Slots are recycled on close.
//
// Per slot, steps mode (per step: 4 B time offset, 2 B id fingerprint, 4 × 1 B type/page/dwell/value):
//   header ~50 B  +  rows × 10 B  (H = 32: ~386 B of typed arrays, ~490 B with strings; see
//   bench/session-memory.ts). The last event time is not stored: it is the last row's.
// Buckets mode keeps per-bucket aggregates (rows × (2·C + 40) B, C = types + 1 + page buckets)
// and a ring of the last DEDUPE_RING arrivals for duplicate detection and reasons.
//
// Duplicate bound: an event is a duplicate when an event with the same time, type and 16-bit
// eventId fingerprint is still in the session's window (steps mode: the last H steps; buckets
// mode: the last DEDUPE_RING arrivals). A duplicate of an event that already fell out of the
// window cannot change the image; it is only counted in eventCount.
import { type ImageSpec, type SessionizationSpec, validateImageSpec, validateSessionizationSpec } from '../journey/image-spec.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { pageBucket } from '../journey/page-category.ts';
import { fnv1a32 } from '../util/hash.ts';
import { type BucketRows, type StepRows, NO_PAGE, quantizeDwell, quantizeValue } from '../journey/rasterize.ts';
import { type CloseReason, SessionView } from '../journey/session-view.ts';
import { SlotIndex } from './slot-index.ts';

export const DEDUPE_RING = 16;
const NONE = 0xffff_ffff;
const USER_KEY_PREFIX = '\u0001u:';

export type OfferResult = 'accepted' | 'duplicate' | 'late';

export interface ClosedSession {
  view: SessionView;
  reason: CloseReason;
  /** Event time the session ended at: its deadline (gap or maximum length), or the shutdown time. */
  at: number;
}

/** A quiet checkpoint passed by the watermark (see SessionizationSpec.quietEveryMs). */
export interface QuietSession {
  view: SessionView;
  /** The checkpoint: last event + k · quietEveryMs. */
  asOf: number;
}

export interface SessionStoreOptions {
  /** Slots allocated up front; the store grows by half when full. */
  initialCapacity?: number;
}

// A binary min-heap of slots per partition, ordered by each slot's close deadline.
class DeadlineHeap {
  slots = new Int32Array(16);
  size = 0;
}

export class SessionStore {
  readonly image: ImageSpec;
  readonly session: SessionizationSpec;
  readonly #typeIndex = new Map<string, number>();
  readonly #h: number;
  readonly #c: number;
  readonly #steps: boolean;
  #capacity = 0;
  #highWater = 0;
  #free: number[] = [];
  readonly #index: SlotIndex;
  #openCount = 0;
  // ids of sessions keyed by user (sessionId-keyed sessions use their key): sparse
  readonly #userSessionIds = new Map<number, string>();
  readonly #heaps = new Map<number, DeadlineHeap>();
  // header columns
  #eventCount = new Uint32Array(0);
  #base = new Float64Array(0);
  #last = new Float64Array(0);
  #deadline = new Float64Array(0);
  #minOffset = new Float64Array(0);
  // newest offset that changed the session: after a restart, an update whose newest offset was
  // already covered by a committed tick is a replay of something already published
  #maxOffset = new Float64Array(0);
  #partition = new Uint16Array(0);
  #heapPos = new Int32Array(0);
  #link = new Int32Array(0);
  #generation = new Uint16Array(0);
  #len = new Uint16Array(0);
  #dirty = new Uint8Array(0);
  #prevRel = new Uint32Array(0);
  #userIds: (string | null)[] = [];
  #lastEventIds: (string | undefined)[] = [];
  // steps columns (slot × H)
  #rel = new Uint32Array(0);
  #fp = new Uint16Array(0);
  #type = new Uint8Array(0);
  #page = new Uint8Array(0);
  #dwell = new Uint8Array(0);
  #value = new Uint8Array(0);
  // buckets columns (slot × H, counts slot × H × C) and arrival ring (slot × DEDUPE_RING)
  #bCounts = new Uint16Array(0);
  #bDwell = new Float64Array(0);
  #bValue = new Float64Array(0);
  #bMin = new Float64Array(0);
  #bMax = new Float64Array(0);
  #bTag = new Float64Array(0);
  #bPrev = new Float64Array(0);
  #ringFp = new Uint32Array(0);
  #ringTs = new Float64Array(0);
  #ringType = new Uint8Array(0);

  constructor(image: ImageSpec, session: SessionizationSpec, options: SessionStoreOptions = {}) {
    this.image = validateImageSpec(image);
    this.session = validateSessionizationSpec(session);
    this.image.eventTypes.forEach((t, i) => this.#typeIndex.set(t, i));
    this.#h = this.image.rows;
    this.#c = this.image.eventTypes.length + 1 + this.image.pageBuckets;
    this.#steps = this.image.rowMode === 'steps';
    this.#index = new SlotIndex(0);
    this.#grow(Math.max(16, options.initialCapacity ?? 1024));
  }

  /** Number of open sessions. */
  get size(): number {
    return this.#openCount;
  }

  /** Allocated slots (open sessions plus free ones). */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Smallest Kafka offset still needed to rebuild the open sessions of `partition` (the offset
   * of the earliest event of the oldest open session), as a decimal string; undefined when the
   * partition has no open session. Commit min(this, next offset to read): replaying from there
   * after a restart rebuilds every open session, while closed sessions are not replayed.
   */
  lowWatermark(partition: number): string | undefined {
    const heap = this.#heaps.get(partition);
    if (!heap || heap.size === 0) return undefined;
    let min = Infinity;
    for (let i = 0; i < heap.size; i++) {
      const o = this.#minOffset[heap.slots[i]!]!;
      if (o < min) min = o;
    }
    return offsetString(min);
  }

  /** Partitions with at least one open session. */
  partitions(): number[] {
    return [...this.#heaps].filter(([, h]) => h.size > 0).map(([p]) => p);
  }

  /** Session key for an event: its sessionId, or its user when the sessionId is empty. */
  keyOf(event: ClickEvent): string {
    return event.sessionId !== '' ? event.sessionId : `${USER_KEY_PREFIX}${event.userId ?? ''}`;
  }

  slotOf(event: ClickEvent): number | undefined {
    const slot = this.#index.get(this.keyOf(event));
    return slot === -1 ? undefined : slot;
  }

  generation(slot: number): number {
    return this.#generation[slot]!;
  }

  /** Marks a slot changed since the last tick; false if it already was. */
  markDirty(slot: number): boolean {
    if (this.#dirty[slot] === 1) return false;
    this.#dirty[slot] = 1;
    return true;
  }

  isDirty(slot: number): boolean {
    return this.#dirty[slot] === 1;
  }

  clearDirty(slot: number): void {
    this.#dirty[slot] = 0;
  }

  isOpen(slot: number, generation: number): boolean {
    return this.#generation[slot] === generation && this.#index.keyOf(slot) !== undefined;
  }

  /**
   * Adds one event. `watermark` is the partition's event-time watermark before this event.
   * A session the event ends (by stretching it to its maximum length) is pushed to `closed`
   * first. Returns what happened to the event; the slot it went to is `slotOf(event)` when
   * accepted.
   */
  offer(event: ClickEvent, partition: number, offset: string, watermark: number, closed: ClosedSession[]): OfferResult {
    const ts = Math.floor(event.timestamp);
    const key = this.keyOf(event);
    const bySession = event.sessionId !== '';
    const { gapMs, maxSessionMs } = this.session;
    let slot = bySession ? this.slotOf(event) : this.#userSessionFor(key, ts);
    if (slot !== undefined) {
      const first = this.#base[slot]!;
      const last = this.#lastTs(slot);
      if (Math.max(last, ts) - Math.min(first, ts) >= maxSessionMs) {
        if (ts < first) return 'late';
        closed.push(this.#close(slot, 'maxLength', Math.max(last, first + maxSessionMs)));
        slot = undefined;
      }
    }
    if (slot === undefined) {
      if (watermark > ts + gapMs) return 'late';
      slot = this.#open(key, bySession ? event.sessionId : `u:${event.userId ?? ''}:${ts}`, ts, partition);
    }
    const fp = fnv1a32(event.eventId);
    const type = this.#typeIndex.get(event.type) ?? this.image.eventTypes.length;
    const accepted = this.#steps ? this.#addStep(slot, event, ts, fp, type) : this.#addToBucket(slot, event, ts, fp, type);
    if (!accepted) return 'duplicate';
    this.#eventCount[slot] = Math.min(this.#eventCount[slot]! + 1, NONE);
    if (!this.#steps && ts > this.#last[slot]!) this.#last[slot] = ts;
    const off = Number(offset);
    if (off < this.#minOffset[slot]!) this.#minOffset[slot] = off;
    if (off > this.#maxOffset[slot]!) this.#maxOffset[slot] = off;
    this.#lastEventIds[slot] = event.eventId;
    if (this.#userIds[slot] === null && event.userId !== null) this.#userIds[slot] = event.userId;
    this.#setDeadline(slot);
    return 'accepted';
  }

  /**
   * Closes the sessions of `partition` whose deadline the watermark has passed: inactivity
   * (watermark > last event + gap) or maximum length (watermark > first event + maxSessionMs).
   */
  closeExpired(partition: number, watermark: number, closed: ClosedSession[], quiet?: QuietSession[]): void {
    const heap = this.#heaps.get(partition);
    if (!heap) return;
    const every = quiet ? (this.session.quietEveryMs ?? 0) : 0;
    while (heap.size > 0) {
      const slot = heap.slots[0]!;
      if (!(watermark > this.#deadline[slot]!)) break;
      const due = this.#due(slot);
      if (watermark > due) {
        const byGap = this.#lastTs(slot) + this.session.gapMs <= this.#base[slot]! + this.session.maxSessionMs;
        closed.push(this.#close(slot, byGap ? 'gap' : 'maxLength', due));
        continue;
      }
      // The deadline was a quiet checkpoint, or is stale (events moved the session on): the
      // newest checkpoint last + m·every below the watermark is reported once, then the
      // deadline moves to the next one (or the close, whichever is first).
      let next = due;
      if (every > 0) {
        const last = this.#lastTs(slot);
        const m = Math.floor((watermark - last - 1) / every);
        if (m >= 1) {
          quiet!.push({ view: this.view(slot), asOf: last + m * every });
          // the re-score carries any change still pending for the next tick
          this.#dirty[slot] = 0;
        }
        next = this.#checkpointOrDue(due, last, Math.max(1, m + 1));
      }
      this.#deadline[slot] = next;
      this.#siftDown(heap, 0);
    }
  }

  /** Closes every open session (graceful shutdown), oldest deadline first per partition. `at`: the shutdown's event time (default each session's last event). */
  closeAll(reason: CloseReason, closed: ClosedSession[], at = Number.NEGATIVE_INFINITY): void {
    for (const p of [...this.#heaps.keys()].sort((a, b) => a - b)) {
      const heap = this.#heaps.get(p)!;
      const slots = Array.from(heap.slots.subarray(0, heap.size)).sort((a, b) => this.#due(a) - this.#due(b));
      for (const slot of slots) closed.push(this.#close(slot, reason, Math.max(this.#lastTs(slot), at)));
    }
  }

  /** Forgets a revoked partition's sessions without emitting them (their new owner replays them). */
  dropPartition(partition: number): number {
    const heap = this.#heaps.get(partition);
    if (!heap) return 0;
    let n = 0;
    while (heap.size > 0) {
      this.#release(heap.slots[0]!);
      n++;
    }
    this.#heaps.delete(partition);
    return n;
  }

  /** A detached copy of an open session (what an update carries). */
  view(slot: number): SessionView {
    return this.#steps ? this.#stepsView(slot) : this.#bucketsView(slot);
  }

  // ---- sessions keyed by user ------------------------------------------------------------

  // A user's events are split into sessions by the inactivity gap. Out-of-order arrival can
  // open a second session before the event that bridges the two arrives, so a user key may
  // have several open sessions (a short chain through #link); an event within the gap of two
  // of them merges them. The watermark closes each one as usual.
  #userSessionFor(key: string, ts: number): number | undefined {
    const gap = this.session.gapMs;
    let matches: number[] | undefined;
    for (let s = this.#index.get(key); s !== -1; s = this.#link[s]!) {
      if (ts >= this.#base[s]! - gap && ts <= this.#lastTs(s) + gap) (matches ??= []).push(s);
    }
    if (!matches) return undefined;
    // the earliest session absorbs the others, so a session keeps the id it was opened with
    let target = matches[0]!;
    for (const m of matches) if (this.#base[m]! < this.#base[target]!) target = m;
    for (const m of matches) if (m !== target) this.#merge(m, target);
    return target;
  }

  // Folds session `from` into `into` and frees `from`. Both windows hold the greatest rows of
  // their own events, so the greatest rows of the union are among them: the result is what one
  // session would hold had the events arrived in order.
  #merge(from: number, into: number): void {
    this.#rebase(into, Math.min(this.#base[into]!, this.#base[from]!));
    if (this.#steps) {
      const o = from * this.#h;
      const base = this.#base[from]!;
      for (let i = 0; i < this.#len[from]!; i++) {
        const j = o + i;
        if (!this.#insertStep(into, base + this.#rel[j]!, this.#fp[j]!, this.#type[j]!, this.#page[j]!, this.#dwell[j]!, this.#value[j]!)) {
          this.#eventCount[into] = Math.max(0, this.#eventCount[into]! - 1);
        }
      }
      if (this.#prevRel[from] !== NONE) this.#notePrev(into, base + this.#prevRel[from]! - this.#base[into]!);
    } else {
      const h = this.#h;
      const c = this.#c;
      const last = Math.max(this.#last[into]!, this.#last[from]!);
      this.#rollBuckets(into, this.#base[into]!, last);
      this.#last[into] = last;
      const start = this.#windowStartBucket(this.#base[into]!, last);
      const prevFrom = this.#bPrev[from]!;
      if (!Number.isNaN(prevFrom)) this.#noteBucketPrev(into, prevFrom);
      for (let r = 0; r < h; r++) {
        const src = from * h + r;
        const b = this.#bTag[src]!;
        if (Number.isNaN(b)) continue;
        if (b < start) {
          this.#noteBucketPrev(into, this.#bMax[src]!);
          continue;
        }
        const dst = this.#bucketRow(into, b);
        for (let k = 0; k < c; k++) this.#bCounts[dst * c + k] = Math.min(0xffff, this.#bCounts[dst * c + k]! + this.#bCounts[src * c + k]!);
        this.#bDwell[dst]! += this.#bDwell[src]!;
        this.#bValue[dst]! += this.#bValue[src]!;
        if (!(this.#bMin[dst]! <= this.#bMin[src]!)) this.#bMin[dst] = this.#bMin[src]!;
        if (!(this.#bMax[dst]! >= this.#bMax[src]!)) this.#bMax[dst] = this.#bMax[src]!;
      }
      const n = this.#eventCount[from]!;
      for (let k = Math.max(0, n - DEDUPE_RING); k < n; k++) {
        const src = from * DEDUPE_RING + (k % DEDUPE_RING);
        this.#remember(into, this.#ringFp[src]!, this.#ringTs[src]!, this.#ringType[src]!, this.#eventCount[into]! + (k - Math.max(0, n - DEDUPE_RING)));
      }
    }
    this.#eventCount[into] = Math.min(this.#eventCount[into]! + this.#eventCount[from]!, NONE);
    if (this.#minOffset[from]! < this.#minOffset[into]!) this.#minOffset[into] = this.#minOffset[from]!;
    if (this.#maxOffset[from]! > this.#maxOffset[into]!) this.#maxOffset[into] = this.#maxOffset[from]!;
    if (this.#userIds[into] === null) this.#userIds[into] = this.#userIds[from]!;
    this.#release(from);
    this.#setDeadline(into);
  }

  // ---- slots --------------------------------------------------------------------------------

  #open(key: string, sessionId: string, ts: number, partition: number): number {
    if (this.#free.length === 0 && this.#highWater === this.#capacity) this.#grow(Math.ceil(this.#capacity * 1.5));
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#highWater++;
    if (partition < 0 || partition > 0xffff || !Number.isInteger(partition)) throw new RangeError(`partition must be an integer from 0 to 65535, got ${partition}`);
    this.#link[slot] = this.#index.get(key);
    this.#index.set(key, slot);
    this.#openCount++;
    if (sessionId !== key) this.#userSessionIds.set(slot, sessionId);
    this.#userIds[slot] = null;
    this.#lastEventIds[slot] = undefined;
    this.#eventCount[slot] = 0;
    this.#base[slot] = ts;
    if (!this.#steps) this.#last[slot] = ts;
    this.#minOffset[slot] = Infinity;
    this.#maxOffset[slot] = -1;
    this.#partition[slot] = partition;
    this.#len[slot] = 0;
    this.#dirty[slot] = 0;
    this.#prevRel[slot] = NONE;
    if (!this.#steps) {
      const h = this.#h;
      this.#bCounts.fill(0, slot * h * this.#c, (slot + 1) * h * this.#c);
      this.#bDwell.fill(0, slot * h, (slot + 1) * h);
      this.#bValue.fill(0, slot * h, (slot + 1) * h);
      this.#bMin.fill(NaN, slot * h, (slot + 1) * h);
      this.#bMax.fill(NaN, slot * h, (slot + 1) * h);
      this.#bTag.fill(NaN, slot * h, (slot + 1) * h);
      this.#bPrev[slot] = NaN;
    }
    let heap = this.#heaps.get(partition);
    if (!heap) {
      heap = new DeadlineHeap();
      this.#heaps.set(partition, heap);
    }
    if (heap.size === heap.slots.length) {
      const bigger = new Int32Array(heap.slots.length * 2);
      bigger.set(heap.slots);
      heap.slots = bigger;
    }
    this.#deadline[slot] = this.#checkpointOrDue(ts + this.session.gapMs, ts, 1);
    heap.slots[heap.size] = slot;
    this.#heapPos[slot] = heap.size;
    heap.size++;
    this.#siftUp(heap, heap.size - 1);
    return slot;
  }

  #close(slot: number, reason: CloseReason, at: number): ClosedSession {
    const view = this.view(slot);
    this.#release(slot);
    return { view, reason, at };
  }

  #release(slot: number): void {
    const key = this.#index.keyOf(slot)!;
    const head = this.#index.get(key);
    if (head === slot) {
      if (this.#link[slot] === -1) this.#index.delete(key);
      else this.#index.set(key, this.#link[slot]!);
    } else {
      let p = head;
      while (this.#link[p] !== slot) p = this.#link[p]!;
      this.#link[p] = this.#link[slot]!;
    }
    this.#heapRemove(this.#heaps.get(this.#partition[slot]!)!, slot);
    this.#index.forget(slot);
    this.#userSessionIds.delete(slot);
    this.#openCount--;
    this.#userIds[slot] = null;
    this.#lastEventIds[slot] = undefined;
    this.#dirty[slot] = 0;
    this.#generation[slot] = (this.#generation[slot]! + 1) & 0xffff;
    this.#free.push(slot);
  }

  #grow(capacity: number): void {
    const h = this.#h;
    const steps = this.#steps;
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T, per: number, used: boolean): T => {
      const C = a.constructor as new (n: number) => T;
      const b = new C(used ? capacity * per : 0);
      if (used) b.set(a);
      return b;
    };
    this.#eventCount = grow(this.#eventCount, 1, true);
    this.#base = grow(this.#base, 1, true);
    this.#last = grow(this.#last, 1, !steps);
    this.#deadline = grow(this.#deadline, 1, true);
    this.#minOffset = grow(this.#minOffset, 1, true);
    this.#maxOffset = grow(this.#maxOffset, 1, true);
    this.#partition = grow(this.#partition, 1, true);
    this.#heapPos = grow(this.#heapPos, 1, true);
    this.#link = grow(this.#link, 1, true);
    this.#generation = grow(this.#generation, 1, true);
    this.#len = grow(this.#len, 1, true);
    this.#dirty = grow(this.#dirty, 1, true);
    this.#prevRel = grow(this.#prevRel, 1, steps);
    this.#rel = grow(this.#rel, h, steps);
    this.#fp = grow(this.#fp, h, steps);
    this.#type = grow(this.#type, h, steps);
    this.#page = grow(this.#page, h, steps);
    this.#dwell = grow(this.#dwell, h, steps);
    this.#value = grow(this.#value, h, steps);
    this.#bCounts = grow(this.#bCounts, h * this.#c, !steps);
    this.#bDwell = grow(this.#bDwell, h, !steps);
    this.#bValue = grow(this.#bValue, h, !steps);
    this.#bMin = grow(this.#bMin, h, !steps);
    this.#bMax = grow(this.#bMax, h, !steps);
    this.#bTag = grow(this.#bTag, h, !steps);
    this.#bPrev = grow(this.#bPrev, 1, !steps);
    this.#ringFp = grow(this.#ringFp, DEDUPE_RING, !steps);
    this.#ringTs = grow(this.#ringTs, DEDUPE_RING, !steps);
    this.#ringType = grow(this.#ringType, DEDUPE_RING, !steps);
    this.#index.grow(capacity);
    this.#userIds.length = capacity;
    this.#lastEventIds.length = capacity;
    this.#capacity = capacity;
  }

  // ---- steps mode ---------------------------------------------------------------------------

  // Keeps the H greatest events by (time, fingerprint, type, page, dwell, value): a total order
  // on everything the image shows, so the window does not depend on arrival order.
  #addStep(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean {
    const page = event.page === null || this.image.pageBuckets === 0 ? NO_PAGE : pageBucket(event.page, this.image.pageBuckets);
    return this.#insertStep(slot, ts, fullFp & 0xffff, type, page, quantizeDwell(event.durationMs, this.image), quantizeValue(event.value, this.image));
  }

  // Offsets are unsigned: an event older than the session's first one moves the origin.
  #rebase(slot: number, base: number): void {
    const delta = this.#base[slot]! - base;
    if (delta <= 0) return;
    if (this.#steps) {
      const o = slot * this.#h;
      for (let i = 0; i < this.#len[slot]!; i++) this.#rel[o + i]! += delta;
      if (this.#prevRel[slot] !== NONE) this.#prevRel[slot]! += delta;
    }
    this.#base[slot] = base;
  }

  #notePrev(slot: number, rel: number): void {
    if (this.#prevRel[slot] === NONE || rel > this.#prevRel[slot]!) this.#prevRel[slot] = rel;
  }

  #insertStep(slot: number, ts: number, fp: number, type: number, page: number, dwell: number, value: number): boolean {
    const h = this.#h;
    const o = slot * h;
    const rel = this.#rel;
    this.#rebase(slot, ts);
    const r = ts - this.#base[slot]!;
    const len = this.#len[slot]!;
    // upper bound: first row whose key is greater than the new event's
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const i = o + mid;
      const cmp =
        rel[i]! - r || this.#fp[i]! - fp || this.#type[i]! - type || this.#page[i]! - page || this.#dwell[i]! - dwell || this.#value[i]! - value;
      if (cmp <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && rel[o + i] === r; i--) {
      if (this.#fp[o + i] === fp && this.#type[o + i] === type) return false;
    }
    let at = lo;
    if (len < h) {
      this.#shift(o + at, o + len, 1);
      this.#len[slot] = len + 1;
    } else if (at === 0) {
      // older than the whole window: it only moves the gap reference of row 0
      this.#notePrev(slot, r);
      return true;
    } else {
      this.#notePrev(slot, rel[o]!);
      this.#shift(o + 1, o + at, -1);
      at -= 1;
    }
    const i = o + at;
    rel[i] = r;
    this.#fp[i] = fp;
    this.#type[i] = type;
    this.#page[i] = page;
    this.#dwell[i] = dwell;
    this.#value[i] = value;
    return true;
  }

  // moves rows [from, to) by `by` (±1) in every step column
  #shift(from: number, to: number, by: number): void {
    if (to <= from) return;
    this.#rel.copyWithin(from + by, from, to);
    this.#fp.copyWithin(from + by, from, to);
    this.#type.copyWithin(from + by, from, to);
    this.#page.copyWithin(from + by, from, to);
    this.#dwell.copyWithin(from + by, from, to);
    this.#value.copyWithin(from + by, from, to);
  }

  #stepsView(slot: number): SessionView {
    const h = this.#h;
    const o = slot * h;
    const len = this.#len[slot]!;
    const base = this.#base[slot]!;
    const rows: StepRows = {
      mode: 'steps',
      len,
      rel: this.#rel.slice(o, o + len),
      type: this.#type.slice(o, o + len),
      page: this.#page.slice(o, o + len),
      dwell: this.#dwell.slice(o, o + len),
      value: this.#value.slice(o, o + len),
      prevRel: this.#prevRel[slot] === NONE ? -1 : this.#prevRel[slot]!,
    };
    const recent = Array.from(rows.type, (t) => this.#typeName(t));
    return new SessionView(
      this.#facts(slot, base + (len > 0 ? rows.rel[0]! : 0), base + (len > 0 ? rows.rel[len - 1]! : 0)),
      rows,
      this.image,
      recent,
    );
  }

  // ---- buckets mode -------------------------------------------------------------------------

  // Rows are the buckets [start, start + H) with start = max(first bucket, last bucket − H + 1),
  // a function of the session's first and last event only; row storage is a ring by bucket.
  #windowStartBucket(first: number, last: number): number {
    const bm = this.image.bucketMs;
    return Math.max(Math.floor(first / bm), Math.floor(last / bm) - this.#h + 1);
  }

  #addToBucket(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean {
    const n = this.#eventCount[slot]!;
    const ro = slot * DEDUPE_RING;
    for (let k = 0; k < Math.min(n, DEDUPE_RING); k++) {
      if (this.#ringFp[ro + k] === fullFp && this.#ringTs[ro + k] === ts && this.#ringType[ro + k] === type) return false;
    }
    this.#remember(slot, fullFp, ts, type, n);
    const first = Math.min(this.#base[slot]!, ts);
    const last = n > 0 ? Math.max(this.#last[slot]!, ts) : ts;
    if (n > 0) this.#rollBuckets(slot, first, last);
    this.#base[slot] = first;
    const b = Math.floor(ts / this.image.bucketMs);
    if (b < this.#windowStartBucket(first, last)) {
      this.#noteBucketPrev(slot, ts);
      return true;
    }
    const row = this.#bucketRow(slot, b);
    const c = this.#c;
    const co = row * c;
    if (this.#bCounts[co + type]! < 0xffff) this.#bCounts[co + type]! += 1;
    if (event.page !== null && this.image.pageBuckets > 0) {
      const p = co + this.image.eventTypes.length + 1 + pageBucket(event.page, this.image.pageBuckets);
      if (this.#bCounts[p]! < 0xffff) this.#bCounts[p]! += 1;
    }
    // integers (ms, cents) so that sums are exact and independent of arrival order
    if (event.durationMs !== null && event.durationMs > 0) this.#bDwell[row]! += Math.round(event.durationMs);
    if (event.value !== null && event.value > 0) this.#bValue[row]! += Math.round(event.value * 100);
    if (!(this.#bMin[row]! <= ts)) this.#bMin[row] = ts;
    if (!(this.#bMax[row]! >= ts)) this.#bMax[row] = ts;
    return true;
  }

  // the n-th accepted event's fingerprint, for duplicate checks and "reasons"
  #remember(slot: number, fp: number, ts: number, type: number, n: number): void {
    const k = slot * DEDUPE_RING + (n % DEDUPE_RING);
    this.#ringFp[k] = fp;
    this.#ringTs[k] = ts;
    this.#ringType[k] = type;
  }

  // The session's time range grows to [first, last]: buckets that leave the window hand their
  // last event time to row 0's gap reference and are cleared for reuse.
  #rollBuckets(slot: number, first: number, last: number): void {
    const h = this.#h;
    const oldStart = this.#windowStartBucket(this.#base[slot]!, this.#last[slot]!);
    const start = this.#windowStartBucket(first, last);
    for (let b = oldStart; b < start && b < oldStart + h; b++) {
      const row = slot * h + mod(b, h);
      if (this.#bTag[row] !== b) continue;
      this.#noteBucketPrev(slot, this.#bMax[row]!);
      this.#clearBucket(slot, row);
    }
  }

  #bucketRow(slot: number, b: number): number {
    const row = slot * this.#h + mod(b, this.#h);
    if (this.#bTag[row] !== b) {
      this.#clearBucket(slot, row);
      this.#bTag[row] = b;
    }
    return row;
  }

  #noteBucketPrev(slot: number, ts: number): void {
    const prev = this.#bPrev[slot]!;
    if (Number.isNaN(prev) || ts > prev) this.#bPrev[slot] = ts;
  }

  #clearBucket(_slot: number, row: number): void {
    const c = this.#c;
    this.#bCounts.fill(0, row * c, (row + 1) * c);
    this.#bDwell[row] = 0;
    this.#bValue[row] = 0;
    this.#bMin[row] = NaN;
    this.#bMax[row] = NaN;
    this.#bTag[row] = NaN;
  }

  #bucketsView(slot: number): SessionView {
    const h = this.#h;
    const c = this.#c;
    const o = slot * h;
    const start = this.#windowStartBucket(this.#base[slot]!, this.#last[slot]!);
    const rows: BucketRows = {
      mode: 'buckets',
      counts: new Uint16Array(h * c),
      dwellMs: new Float64Array(h),
      valueCents: new Float64Array(h),
      minTs: new Float64Array(h).fill(NaN),
      maxTs: new Float64Array(h).fill(NaN),
      prevTs: this.#bPrev[slot]!,
    };
    for (let r = 0; r < h; r++) {
      const row = o + mod(start + r, h);
      if (this.#bTag[row] !== start + r) continue;
      rows.counts.set(this.#bCounts.subarray(row * c, (row + 1) * c), r * c);
      rows.dwellMs[r] = this.#bDwell[row]!;
      rows.valueCents[r] = this.#bValue[row]!;
      rows.minTs[r] = this.#bMin[row]!;
      rows.maxTs[r] = this.#bMax[row]!;
    }
    const n = this.#eventCount[slot]!;
    const recent: string[] = [];
    for (let k = Math.max(0, n - DEDUPE_RING); k < n; k++) recent.push(this.#typeName(this.#ringType[slot * DEDUPE_RING + (k % DEDUPE_RING)]!));
    const bm = this.image.bucketMs;
    return new SessionView(this.#facts(slot, start * bm, this.#last[slot]!), rows, this.image, recent);
  }

  // ---- shared -------------------------------------------------------------------------------

  #facts(slot: number, windowStart: number, windowEnd: number) {
    return {
      sessionId: this.#userSessionIds.get(slot) ?? this.#index.keyOf(slot)!,
      userId: this.#userIds[slot]!,
      eventCount: this.#eventCount[slot]!,
      sessionStart: this.#base[slot]!,
      windowStart,
      windowEnd,
      lastEventId: this.#lastEventIds[slot] ?? '',
      partition: this.#partition[slot]!,
      firstOffset: offsetString(this.#minOffset[slot]!),
      lastOffset: offsetString(this.#maxOffset[slot]!),
    };
  }

  #typeName(t: number): string {
    return this.image.eventTypes[t] ?? 'other';
  }

  // Steps mode does not store the last event time: the newest event is always the last row.
  #lastTs(slot: number): number {
    if (!this.#steps) return this.#last[slot]!;
    return this.#base[slot]! + this.#rel[slot * this.#h + this.#len[slot]! - 1]!;
  }

  #due(slot: number): number {
    return Math.min(this.#lastTs(slot) + this.session.gapMs, this.#base[slot]! + this.session.maxSessionMs);
  }

  // The heap key may lag behind the real deadline (it only grows as events arrive): re-sifting
  // on every event would cost a cache miss per heap level, so a stale key is corrected when it
  // reaches the top (closeExpired). A deadline that moves earlier is sifted at once.
  // A slot's heap key: its close deadline, or its k-th quiet checkpoint after `last` when quiet
  // re-scores are on and that comes first.
  #checkpointOrDue(due: number, last: number, k: number): number {
    const every = this.session.quietEveryMs ?? 0;
    return every > 0 ? Math.min(due, last + k * every) : due;
  }

  #setDeadline(slot: number): void {
    const d = this.#checkpointOrDue(this.#due(slot), this.#lastTs(slot), 1);
    if (d < this.#deadline[slot]!) {
      this.#deadline[slot] = d;
      this.#siftUp(this.#heaps.get(this.#partition[slot]!)!, this.#heapPos[slot]!);
    }
  }

  #heapRemove(heap: DeadlineHeap, slot: number): void {
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

  #siftUp(heap: DeadlineHeap, i: number): void {
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

  #siftDown(heap: DeadlineHeap, i: number): void {
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

function mod(a: number, n: number): number {
  const m = a % n;
  return m < 0 ? m + n : m;
}

// Offsets are kept as float64 (exact below 2^53, far beyond any real Kafka offset).
function offsetString(o: number): string {
  return Number.isFinite(o) ? BigInt(o).toString() : '';
}

