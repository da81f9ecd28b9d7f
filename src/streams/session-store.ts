// Compact per-session state for the sessionizer. One open session = one slot in a set of
// column arrays (structure of arrays), so a million sessions cost a few hundred MB of flat
// typed arrays plus a hash-table entry and three strings each, instead of an object graph (an
// RxJS groupBy group per session costs ~2 KB). Slots are recycled on close.
//
// This file keeps the slots: the key index, the header columns, offsets, user-keyed sessions,
// and the close deadlines (deadline-heap.ts). The rows live in one of two layouts:
//   steps mode (step-rows.ts): per step 4 B time offset, 2 B id fingerprint, 4 × 1 B
//     type/page/dwell/value: header ~50 B + rows × 10 B (H = 32: ~386 B of typed arrays, ~490 B
//     with strings; see bench/session-memory.ts);
//   buckets mode (bucket-rows.ts): per-bucket aggregates and a ring of recent arrivals.
//
// Duplicate bound: an event is a duplicate when an event with the same time, type and 16-bit
// eventId fingerprint is still in the session's window (steps mode: the last H steps; buckets
// mode: the last DEDUPE_RING arrivals). A duplicate of an event that already fell out of the
// window cannot change the image; it is only counted in eventCount.
//
// Sessions of one key (a session id, or a user for events without one) are split by the inactivity gap from the key's
// own events, never from other sessions' traffic: an event joins the open session of its key
// whose [first − gap, last + gap] holds it, and opens a new one otherwise. So a key may have
// several open sessions at once (a short chain through #link); an out-of-order event within the
// gap of two of them merges them. A session opened after an earlier open session of its key is
// *held* (its updates wait) until the earlier one closes, so one key's sessions come out one
// after another: the earlier one's final before the later one's first update.
//
// Session cap: beyond maxSessions open sessions, the least recently active one (a list in
// arrival order of the last accepted event) closes early with reason 'evicted'.
import { type ImageSpec, type SessionizationSpec, validateImageSpec, validateSessionizationSpec } from '../journey/image-spec.ts';
import { type CloseReason, SessionView } from '../journey/session-view.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { fnv1a32 } from '../util/hash.ts';
import { BucketRows } from './bucket-rows.ts';
import { DeadlineHeaps } from './deadline-heap.ts';
import { NONE, SessionHeader, grown } from './session-header.ts';
import { SlotIndex } from './slot-index.ts';
import { type SlotRows } from './slot-rows.ts';
import { StepRows } from './step-rows.ts';
import { getHeapStatistics } from 'node:v8';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { z } from 'zod';
import { componentOptions, gotValue, parseOptions } from '../options.ts';

const USER_KEY_PREFIX = '\u0001u:';
/** "No offset yet" in the minimum-offset column (the int64 maximum). */
const NO_OFFSET = 0x7fff_ffff_ffff_ffffn;
// per-slot flag bits
/** A change is pending for the next tick (or the session is held: see the file comment). */
const DIRTY = 1;
/** Opened after an earlier open session of its key: no update until that one closes. */
const HELD = 2;

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
  /** Slots allocated up front; the store grows by half when full (never beyond maxSessions). */
  initialCapacity?: number;
  /** Most open sessions; beyond it the least recently active one is evicted (default: no cap). */
  maxSessions?: number;
}

/** The per-session budget: bench/session-memory.ts measures the store against it (H = 32 steps). */
export const SESSION_BYTES_BUDGET = 512;

/**
 * The default session cap: a quarter of the memory the process may use (the smaller of V8's heap
 * limit and the container's memory limit) at SESSION_BYTES_BUDGET per session, at least 1000.
 * The other three quarters are for the model (weights, wasm memory, the HNSW index), Kafka
 * fetch buffers, batches in flight and the garbage collector's headroom. With Node's default
 * 4 GiB heap limit: 2,097,152 sessions (1 GiB of session state).
 */
export function defaultMaxSessions(heapLimit: number = getHeapStatistics().heap_size_limit, memoryLimit: number | undefined = process.constrainedMemory?.()): number {
  const budget = Math.min(heapLimit, memoryLimit !== undefined && memoryLimit > 0 ? memoryLimit : Number.POSITIVE_INFINITY);
  return Math.max(1000, Math.floor(budget / 4 / SESSION_BYTES_BUDGET));
}

const capRule = gotValue('must be a positive integer (or left out for no cap)');
const capacityRule = gotValue('must be a positive integer');
const storeSchema = z.object({
  initialCapacity: z.number({ error: capacityRule }).int({ error: capacityRule }).min(1, { error: capacityRule }).optional(),
  maxSessions: z.number({ error: capRule }).int({ error: capRule }).min(1, { error: capRule }).optional(),
});

export class SessionStore {
  readonly image: ImageSpec;
  readonly session: SessionizationSpec;
  readonly #typeIndex = new Map<string, number>();
  readonly #typeName = (t: number): string => this.image.eventTypes[t] ?? 'other';
  readonly #header: SessionHeader;
  readonly #rows: SlotRows;
  readonly #heaps = new DeadlineHeaps();
  #capacity = 0;
  #highWater = 0;
  #free: number[] = [];
  readonly #index: SlotIndex;
  #openCount = 0;
  // ids of sessions keyed by user (sessionId-keyed sessions use their key): sparse
  readonly #userSessionIds = new Map<number, string>();
  // per-slot columns besides the header and the rows; offsets are int64 (NO_OFFSET: none yet)
  #minOffset = new BigInt64Array(0);
  /**
   * Per partition: the smallest #minOffset of its open sessions and the slot holding it (-1:
   * none), so a tick's commit plan does not scan every open session; absent: scan again.
   */
  readonly #low = new Map<number, { min: bigint; holder: number }>();
  // newest offset that changed the session: after a restart, an update whose newest offset was
  // already covered by a committed tick is a replay of something already published
  #maxOffset = new BigInt64Array(0);
  #partition = new Uint16Array(0);
  #link = new Int32Array(0);
  #generation = new Uint16Array(0);
  /** DIRTY | HELD bits. */
  #flags = new Uint8Array(0);
  // least-recently-active list (by the arrival of each session's last accepted event)
  #lruPrev = new Int32Array(0);
  #lruNext = new Int32Array(0);
  #lruHead = -1;
  #lruTail = -1;
  #userIds: (string | null)[] = [];
  #lastEventIds: (string | undefined)[] = [];
  readonly #maxSessions: number;
  #evictions = 0;
  #lastSlot = -1;
  /** Held sessions released since the last takeReleased(), with their generation. */
  #released: number[] = [];

  constructor(image: ImageSpec, session: SessionizationSpec, options: SessionStoreOptions = {}) {
    this.image = validateImageSpec(image);
    this.session = validateSessionizationSpec(session);
    const opts = parseOptions(storeSchema, options, componentOptions('session store'));
    this.#maxSessions = opts.maxSessions ?? Number.POSITIVE_INFINITY;
    this.image.eventTypes.forEach((t, i) => this.#typeIndex.set(t, i));
    const steps = this.image.rowMode === 'steps';
    this.#header = new SessionHeader(!steps);
    this.#rows = steps ? new StepRows(this.image, this.#header) : new BucketRows(this.image, this.#header);
    this.#index = new SlotIndex(0);
    this.#grow(Math.min(Math.max(16, opts.initialCapacity ?? 1024), Math.max(16, this.#maxSessions)));
  }

  /** The session cap (Infinity when none). */
  get maxSessions(): number {
    return this.#maxSessions;
  }

  /** Sessions closed early because the cap was reached, since the store was made. */
  get evictions(): number {
    return this.#evictions;
  }

  /** The slot the last accepted event went to (see offer). */
  get lastSlot(): number {
    return this.#lastSlot;
  }

  /**
   * Held sessions that may now emit updates (the earlier session of their key closed) and are
   * still open, as [slot, generation] pairs flattened; the list is emptied.
   */
  takeReleased(): number[] {
    const r = this.#released;
    this.#released = [];
    const live: number[] = [];
    for (let i = 0; i < r.length; i += 2) if (this.isOpen(r[i]!, r[i + 1]!)) live.push(r[i]!, r[i + 1]!);
    return live;
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
   * of the earliest event of the oldest open session); undefined when the partition has no open
   * session. Commit min(this, next offset to read): replaying from there after a restart
   * rebuilds every open session, while closed sessions are not replayed.
   */
  lowWatermark(partition: number): bigint | undefined {
    let low = this.#low.get(partition);
    if (low === undefined) {
      low = this.#scanLow(partition);
      this.#low.set(partition, low);
    }
    return low.min === NO_OFFSET ? undefined : low.min;
  }

  /** lowWatermark by its definition: a scan of the partition's open sessions (tests compare the two). */
  scanLowWatermark(partition: number): bigint | undefined {
    const { min } = this.#scanLow(partition);
    return min === NO_OFFSET ? undefined : min;
  }

  #scanLow(partition: number): { min: bigint; holder: number } {
    const slots = this.#heaps.slots(partition);
    let min = NO_OFFSET;
    let holder = -1;
    for (let i = 0; i < slots.length; i++) {
      const o = this.#minOffset[slots[i]!]!;
      if (o < min) {
        min = o;
        holder = slots[i]!;
      }
    }
    return { min, holder };
  }

  // A session's smallest offset only goes down while it is open: the partition's minimum follows
  // it, and only the release of the session holding it calls for a new scan.
  #lowered(slot: number, offset: bigint): void {
    const low = this.#low.get(this.#partition[slot]!);
    if (low !== undefined && offset < low.min) {
      low.min = offset;
      low.holder = slot;
    }
  }

  /** Partitions with at least one open session. */
  partitions(): number[] {
    return this.#heaps.nonEmpty();
  }

  /**
   * Session key for an event: its sessionId, or its user when the sessionId is empty (what
   * ingestion gives with ingestion.sessionKey userId: docs/ingestion.md).
   */
  keyOf(event: ClickEvent): string {
    return event.sessionId !== '' ? event.sessionId : `${USER_KEY_PREFIX}${event.userId ?? ''}`;
  }

  /** The most recently opened open session of the event's key (a key may have several: see the file comment). */
  slotOf(event: ClickEvent): number | undefined {
    const slot = this.#index.get(this.keyOf(event));
    return slot === -1 ? undefined : slot;
  }

  generation(slot: number): number {
    return this.#generation[slot]!;
  }

  /**
   * Marks a slot changed since the last tick; false if it already was, or if it is held (a held
   * session's changes wait until it is released: takeReleased).
   */
  markDirty(slot: number): boolean {
    if ((this.#flags[slot]! & DIRTY) !== 0) return false;
    this.#flags[slot]! |= DIRTY;
    return true;
  }

  isDirty(slot: number): boolean {
    return (this.#flags[slot]! & DIRTY) !== 0;
  }

  clearDirty(slot: number): void {
    if ((this.#flags[slot]! & HELD) === 0) this.#flags[slot]! &= ~DIRTY;
  }

  /** Whether the session waits for an earlier session of its key to close before it emits updates. */
  isHeld(slot: number): boolean {
    return (this.#flags[slot]! & HELD) !== 0;
  }

  isOpen(slot: number, generation: number): boolean {
    return this.#generation[slot] === generation && this.#index.keyOf(slot) !== undefined;
  }

  /**
   * Adds one event. `watermark` is the partition's event-time watermark before this event (an
   * event no open session of its key takes, and that the watermark has passed by more than the
   * gap, is late). Sessions the event ends are pushed to `closed` first: one it would stretch to
   * the maximum length, the least recently active one when a new session would exceed the cap.
   * Returns what happened to the event; the session it went to is `lastSlot` when accepted.
   */
  offer(event: ClickEvent, partition: number, offset: bigint, watermark: number, closed: ClosedSession[]): OfferResult {
    const ts = Math.floor(event.timestamp);
    const key = this.keyOf(event);
    const { gapMs, maxSessionMs } = this.session;
    let slot = this.#sessionFor(key, ts);
    if (slot !== undefined) {
      const first = this.#header.base[slot]!;
      const last = this.#rows.lastTs(slot);
      if (Math.max(last, ts) - Math.min(first, ts) >= maxSessionMs) {
        if (ts < first) return 'late';
        closed.push(this.#close(slot, 'maxLength', Math.max(last, first + maxSessionMs)));
        slot = undefined;
      }
    }
    if (slot === undefined) {
      if (watermark > ts + gapMs) return 'late';
      slot = this.#open(key, ts, partition, closed);
    }
    const fp = fnv1a32(event.eventId);
    const type = this.#typeIndex.get(event.type) ?? this.image.eventTypes.length;
    if (!this.#rows.add(slot, event, ts, fp, type)) return 'duplicate';
    const { eventCount } = this.#header;
    eventCount[slot] = Math.min(eventCount[slot]! + 1, NONE);
    if (offset < this.#minOffset[slot]!) {
      this.#minOffset[slot] = offset;
      this.#lowered(slot, offset);
    }
    if (offset > this.#maxOffset[slot]!) this.#maxOffset[slot] = offset;
    this.#lastEventIds[slot] = event.eventId;
    if (this.#userIds[slot] === null && event.userId !== null) this.#userIds[slot] = event.userId;
    this.#setDeadline(slot);
    this.#touch(slot);
    this.#lastSlot = slot;
    return 'accepted';
  }

  /**
   * Closes the sessions of `partition` whose deadline the watermark has passed: inactivity
   * (watermark > last event + gap) or maximum length (watermark > first event + maxSessionMs).
   * With `idle`, `watermark` is the wall clock's stand-in on an idle partition (not the
   * partition's own): the sessions it passes close with reason 'idle', at their own deadlines.
   */
  closeExpired(partition: number, watermark: number, closed: ClosedSession[], quiet?: QuietSession[], idle = false): void {
    const every = quiet ? (this.session.quietEveryMs ?? 0) : 0;
    for (let slot = this.#heaps.top(partition); slot !== -1; slot = this.#heaps.top(partition)) {
      if (!(watermark > this.#heaps.deadline(slot))) break;
      const due = this.#due(slot);
      if (watermark > due) {
        const byGap = this.#rows.lastTs(slot) + this.session.gapMs <= this.#header.base[slot]! + this.session.maxSessionMs;
        closed.push(this.#close(slot, idle ? 'idle' : byGap ? 'gap' : 'maxLength', due));
        continue;
      }
      // The deadline was a quiet checkpoint, or is stale (events moved the session on): the
      // newest checkpoint last + m·every below the watermark is reported once, then the
      // deadline moves to the next one (or the close, whichever is first).
      let next = due;
      if (every > 0) {
        const last = this.#rows.lastTs(slot);
        const m = Math.floor((watermark - last - 1) / every);
        if (m >= 1) {
          quiet!.push({ view: this.view(slot), asOf: last + m * every });
          // the re-score carries any change still pending for the next tick
          this.clearDirty(slot);
        }
        next = this.#checkpointOrDue(due, last, Math.max(1, m + 1));
      }
      this.#heaps.retop(partition, next);
    }
  }

  /** Closes every open session (graceful shutdown), oldest deadline first per partition. `at`: the shutdown's event time (default each session's last event). */
  closeAll(reason: CloseReason, closed: ClosedSession[], at = Number.NEGATIVE_INFINITY): void {
    for (const p of this.#heaps.partitions().sort((a, b) => a - b)) {
      const slots = Array.from(this.#heaps.slots(p)).sort((a, b) => this.#due(a) - this.#due(b));
      for (const slot of slots) closed.push(this.#close(slot, reason, Math.max(this.#rows.lastTs(slot), at)));
    }
  }

  /** Forgets a revoked partition's sessions without emitting them (their new owner replays them). */
  dropPartition(partition: number): number {
    if (!this.#heaps.partitions().includes(partition)) return 0;
    let n = 0;
    for (let slot = this.#heaps.top(partition); slot !== -1; slot = this.#heaps.top(partition)) {
      this.#release(slot, false);
      n++;
    }
    this.#heaps.delete(partition);
    this.#low.delete(partition);
    return n;
  }

  /** A detached copy of an open session (what an update carries). */
  view(slot: number): SessionView {
    const { rows, windowStart, windowEnd, recent } = this.#rows.view(slot, this.#typeName);
    return new SessionView(
      {
        sessionId: this.#userSessionIds.get(slot) ?? this.#index.keyOf(slot)!,
        userId: this.#userIds[slot]!,
        eventCount: this.#header.eventCount[slot]!,
        sessionStart: this.#header.base[slot]!,
        windowStart,
        windowEnd,
        lastEventId: this.#lastEventIds[slot] ?? '',
        partition: this.#partition[slot]!,
        firstOffset: this.#minOffset[slot] === NO_OFFSET ? -1n : this.#minOffset[slot]!,
        lastOffset: this.#maxOffset[slot]!,
      },
      rows,
      this.image,
      recent,
    );
  }

  // ---- the sessions of one key ----------------------------------------------------------

  // The open session of `key` whose [first − gap, last + gap] holds `ts`, if any. An event within
  // the gap of several (it bridges them) merges them into the one opened first, so a session
  // keeps the id and the updates it already has (the chain runs newest first).
  #sessionFor(key: string, ts: number): number | undefined {
    const gap = this.session.gapMs;
    const { base } = this.#header;
    let matches: number[] | undefined;
    for (let s = this.#index.get(key); s !== -1; s = this.#link[s]!) {
      if (ts >= base[s]! - gap && ts <= this.#rows.lastTs(s) + gap) (matches ??= []).push(s);
    }
    if (!matches) return undefined;
    const target = matches[matches.length - 1]!;
    for (const m of matches) if (m !== target) this.#merge(m, target);
    return target;
  }

  // After a session of `key` went away: a held session with no earlier open session left may
  // emit again.
  #settle(key: string): void {
    const { base } = this.#header;
    for (let h = this.#index.get(key); h !== -1; h = this.#link[h]!) {
      if ((this.#flags[h]! & HELD) === 0) continue;
      let earlier = false;
      for (let s = this.#index.get(key); s !== -1 && !earlier; s = this.#link[s]!) earlier = s !== h && base[s]! < base[h]!;
      if (earlier) continue;
      this.#flags[h] = 0;
      this.#released.push(h, this.#generation[h]!);
    }
  }

  // Folds session `from` into `into` and frees `from`.
  #merge(from: number, into: number): void {
    this.#rows.merge(from, into);
    const { eventCount } = this.#header;
    eventCount[into] = Math.min(eventCount[into]! + eventCount[from]!, NONE);
    if (this.#minOffset[from]! < this.#minOffset[into]!) {
      this.#minOffset[into] = this.#minOffset[from]!;
      this.#lowered(into, this.#minOffset[into]!);
    }
    // `into` holds what `from` held now: the partitions' minimums stay (or moved to `into` above)
    const low = this.#low.get(this.#partition[from]!);
    if (low !== undefined && low.holder === from) {
      if (this.#partition[into] === this.#partition[from]) low.holder = into;
      else this.#low.delete(this.#partition[from]!);
    }
    if (this.#maxOffset[from]! > this.#maxOffset[into]!) this.#maxOffset[into] = this.#maxOffset[from]!;
    if (this.#userIds[into] === null) this.#userIds[into] = this.#userIds[from]!;
    this.#release(from);
    this.#setDeadline(into);
  }

  // ---- least recently active ----------------------------------------------------------------

  #lruAppend(slot: number): void {
    this.#lruPrev[slot] = this.#lruTail;
    this.#lruNext[slot] = -1;
    if (this.#lruTail === -1) this.#lruHead = slot;
    else this.#lruNext[this.#lruTail] = slot;
    this.#lruTail = slot;
  }

  #lruUnlink(slot: number): void {
    const p = this.#lruPrev[slot]!;
    const n = this.#lruNext[slot]!;
    if (p === -1) this.#lruHead = n;
    else this.#lruNext[p] = n;
    if (n === -1) this.#lruTail = p;
    else this.#lruPrev[n] = p;
  }

  #touch(slot: number): void {
    if (slot === this.#lruTail) return;
    this.#lruUnlink(slot);
    this.#lruAppend(slot);
  }

  // ---- slots --------------------------------------------------------------------------------

  #open(key: string, ts: number, partition: number, closed: ClosedSession[]): number {
    if (partition < 0 || partition > 0xffff || !Number.isInteger(partition)) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `partition must be an integer from 0 to 65535, got ${partition}`);
    while (this.#openCount >= this.#maxSessions) {
      const lru = this.#lruHead;
      this.#evictions++;
      closed.push(this.#close(lru, 'evicted', this.#rows.lastTs(lru)));
    }
    if (this.#free.length === 0 && this.#highWater === this.#capacity) this.#grow(Math.min(Math.ceil(this.#capacity * 1.5), Math.max(this.#maxSessions, this.#capacity + 1)));
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#highWater++;
    // held when an earlier session of the key is still open (one that could not take this event)
    let held = false;
    for (let s = this.#index.get(key); s !== -1 && !held; s = this.#link[s]!) held = this.#header.base[s]! < ts;
    this.#link[slot] = this.#index.get(key);
    this.#index.set(key, slot);
    this.#openCount++;
    if (key.startsWith(USER_KEY_PREFIX)) this.#userSessionIds.set(slot, `u:${key.slice(USER_KEY_PREFIX.length)}:${ts}`);
    this.#userIds[slot] = null;
    this.#lastEventIds[slot] = undefined;
    this.#header.eventCount[slot] = 0;
    this.#header.base[slot] = ts;
    if (this.image.rowMode !== 'steps') this.#header.last[slot] = ts;
    this.#minOffset[slot] = NO_OFFSET;
    this.#maxOffset[slot] = -1n;
    this.#partition[slot] = partition;
    this.#flags[slot] = held ? HELD | DIRTY : 0;
    this.#rows.open(slot);
    this.#heaps.push(partition, slot, this.#checkpointOrDue(ts + this.session.gapMs, ts, 1));
    this.#lruAppend(slot);
    return slot;
  }

  #close(slot: number, reason: CloseReason, at: number): ClosedSession {
    const view = this.view(slot);
    this.#release(slot);
    return { view, reason, at };
  }

  // Frees a slot; `settle`: let a held session of the same key emit if this was its predecessor.
  #release(slot: number, settle = true): void {
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
    this.#heaps.remove(this.#partition[slot]!, slot);
    if (this.#low.get(this.#partition[slot]!)?.holder === slot) this.#low.delete(this.#partition[slot]!);
    this.#lruUnlink(slot);
    this.#index.forget(slot);
    this.#userSessionIds.delete(slot);
    this.#openCount--;
    this.#userIds[slot] = null;
    this.#lastEventIds[slot] = undefined;
    this.#flags[slot] = 0;
    this.#generation[slot] = (this.#generation[slot]! + 1) & 0xffff;
    this.#free.push(slot);
    if (settle) this.#settle(key);
  }

  #grow(capacity: number): void {
    this.#header.grow(capacity);
    this.#rows.grow(capacity);
    this.#heaps.grow(capacity);
    this.#minOffset = grown(this.#minOffset, capacity);
    this.#maxOffset = grown(this.#maxOffset, capacity);
    this.#partition = grown(this.#partition, capacity);
    this.#link = grown(this.#link, capacity);
    this.#generation = grown(this.#generation, capacity);
    this.#flags = grown(this.#flags, capacity);
    this.#lruPrev = grown(this.#lruPrev, capacity);
    this.#lruNext = grown(this.#lruNext, capacity);
    this.#index.grow(capacity);
    this.#userIds.length = capacity;
    this.#lastEventIds.length = capacity;
    this.#capacity = capacity;
  }

  // ---- deadlines ----------------------------------------------------------------------------

  #due(slot: number): number {
    return Math.min(this.#rows.lastTs(slot) + this.session.gapMs, this.#header.base[slot]! + this.session.maxSessionMs);
  }

  // A slot's heap key: its close deadline, or its k-th quiet checkpoint after `last` when quiet
  // re-scores are on and that comes first.
  #checkpointOrDue(due: number, last: number, k: number): number {
    const every = this.session.quietEveryMs ?? 0;
    return every > 0 ? Math.min(due, last + k * every) : due;
  }

  #setDeadline(slot: number): void {
    this.#heaps.lower(this.#partition[slot]!, slot, this.#checkpointOrDue(this.#due(slot), this.#rows.lastTs(slot), 1));
  }
}
