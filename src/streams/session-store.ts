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
import { ErrorCodes, JourneylensError } from '../errors.ts';

const USER_KEY_PREFIX = '\u0001u:';
/** "No offset yet" in the minimum-offset column (the int64 maximum). */
const NO_OFFSET = 0x7fff_ffff_ffff_ffffn;

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
  // newest offset that changed the session: after a restart, an update whose newest offset was
  // already covered by a committed tick is a replay of something already published
  #maxOffset = new BigInt64Array(0);
  #partition = new Uint16Array(0);
  #link = new Int32Array(0);
  #generation = new Uint16Array(0);
  #dirty = new Uint8Array(0);
  #userIds: (string | null)[] = [];
  #lastEventIds: (string | undefined)[] = [];

  constructor(image: ImageSpec, session: SessionizationSpec, options: SessionStoreOptions = {}) {
    this.image = validateImageSpec(image);
    this.session = validateSessionizationSpec(session);
    this.image.eventTypes.forEach((t, i) => this.#typeIndex.set(t, i));
    const steps = this.image.rowMode === 'steps';
    this.#header = new SessionHeader(!steps);
    this.#rows = steps ? new StepRows(this.image, this.#header) : new BucketRows(this.image, this.#header);
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
   * of the earliest event of the oldest open session); undefined when the partition has no open
   * session. Commit min(this, next offset to read): replaying from there after a restart
   * rebuilds every open session, while closed sessions are not replayed.
   */
  lowWatermark(partition: number): bigint | undefined {
    const slots = this.#heaps.slots(partition);
    let min = NO_OFFSET;
    for (let i = 0; i < slots.length; i++) {
      const o = this.#minOffset[slots[i]!]!;
      if (o < min) min = o;
    }
    return min === NO_OFFSET ? undefined : min;
  }

  /** Partitions with at least one open session. */
  partitions(): number[] {
    return this.#heaps.nonEmpty();
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
  offer(event: ClickEvent, partition: number, offset: bigint, watermark: number, closed: ClosedSession[]): OfferResult {
    const ts = Math.floor(event.timestamp);
    const key = this.keyOf(event);
    const bySession = event.sessionId !== '';
    const { gapMs, maxSessionMs } = this.session;
    let slot = bySession ? this.slotOf(event) : this.#userSessionFor(key, ts);
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
      slot = this.#open(key, bySession ? event.sessionId : `u:${event.userId ?? ''}:${ts}`, ts, partition);
    }
    const fp = fnv1a32(event.eventId);
    const type = this.#typeIndex.get(event.type) ?? this.image.eventTypes.length;
    if (!this.#rows.add(slot, event, ts, fp, type)) return 'duplicate';
    const { eventCount } = this.#header;
    eventCount[slot] = Math.min(eventCount[slot]! + 1, NONE);
    if (offset < this.#minOffset[slot]!) this.#minOffset[slot] = offset;
    if (offset > this.#maxOffset[slot]!) this.#maxOffset[slot] = offset;
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
    const every = quiet ? (this.session.quietEveryMs ?? 0) : 0;
    for (let slot = this.#heaps.top(partition); slot !== -1; slot = this.#heaps.top(partition)) {
      if (!(watermark > this.#heaps.deadline(slot))) break;
      const due = this.#due(slot);
      if (watermark > due) {
        const byGap = this.#rows.lastTs(slot) + this.session.gapMs <= this.#header.base[slot]! + this.session.maxSessionMs;
        closed.push(this.#close(slot, byGap ? 'gap' : 'maxLength', due));
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
          this.#dirty[slot] = 0;
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
      this.#release(slot);
      n++;
    }
    this.#heaps.delete(partition);
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

  // ---- sessions keyed by user ------------------------------------------------------------

  // A user's events are split into sessions by the inactivity gap. Out-of-order arrival can
  // open a second session before the event that bridges the two arrives, so a user key may
  // have several open sessions (a short chain through #link); an event within the gap of two
  // of them merges them. The watermark closes each one as usual.
  #userSessionFor(key: string, ts: number): number | undefined {
    const gap = this.session.gapMs;
    const { base } = this.#header;
    let matches: number[] | undefined;
    for (let s = this.#index.get(key); s !== -1; s = this.#link[s]!) {
      if (ts >= base[s]! - gap && ts <= this.#rows.lastTs(s) + gap) (matches ??= []).push(s);
    }
    if (!matches) return undefined;
    // the earliest session absorbs the others, so a session keeps the id it was opened with
    let target = matches[0]!;
    for (const m of matches) if (base[m]! < base[target]!) target = m;
    for (const m of matches) if (m !== target) this.#merge(m, target);
    return target;
  }

  // Folds session `from` into `into` and frees `from`.
  #merge(from: number, into: number): void {
    this.#rows.merge(from, into);
    const { eventCount } = this.#header;
    eventCount[into] = Math.min(eventCount[into]! + eventCount[from]!, NONE);
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
    if (partition < 0 || partition > 0xffff || !Number.isInteger(partition)) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `partition must be an integer from 0 to 65535, got ${partition}`);
    this.#link[slot] = this.#index.get(key);
    this.#index.set(key, slot);
    this.#openCount++;
    if (sessionId !== key) this.#userSessionIds.set(slot, sessionId);
    this.#userIds[slot] = null;
    this.#lastEventIds[slot] = undefined;
    this.#header.eventCount[slot] = 0;
    this.#header.base[slot] = ts;
    if (this.image.rowMode !== 'steps') this.#header.last[slot] = ts;
    this.#minOffset[slot] = NO_OFFSET;
    this.#maxOffset[slot] = -1n;
    this.#partition[slot] = partition;
    this.#dirty[slot] = 0;
    this.#rows.open(slot);
    this.#heaps.push(partition, slot, this.#checkpointOrDue(ts + this.session.gapMs, ts, 1));
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
    this.#heaps.remove(this.#partition[slot]!, slot);
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
    this.#header.grow(capacity);
    this.#rows.grow(capacity);
    this.#heaps.grow(capacity);
    this.#minOffset = grown(this.#minOffset, capacity);
    this.#maxOffset = grown(this.#maxOffset, capacity);
    this.#partition = grown(this.#partition, capacity);
    this.#link = grown(this.#link, capacity);
    this.#generation = grown(this.#generation, capacity);
    this.#dirty = grown(this.#dirty, capacity);
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
