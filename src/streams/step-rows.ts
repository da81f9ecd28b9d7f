// Steps mode of the session store: per slot the last H events in event-time order, packed as
// 4 B time offset (from the session's first event), 2 B eventId fingerprint and 1 B each of type,
// page bucket, dwell and value. The last event time is not stored: it is the last row's.
import { type ImageSpec } from '../journey/image-spec.ts';
import { pageBucket } from '../journey/page-category.ts';
import { type StepRows as PackedStepRows, NO_PAGE, quantizeDwell, quantizeValue } from '../journey/rasterize.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { NONE, type SessionHeader, grown } from './session-header.ts';
import { type SlotRows } from './slot-rows.ts';

export class StepRows implements SlotRows {
  readonly #h: number;
  #len = new Uint16Array(0);
  /** Offset of the newest event that fell out of the window (row 0's gap reference), or NONE. */
  #prevRel = new Uint32Array(0);
  // slot × H
  #rel = new Uint32Array(0);
  #fp = new Uint16Array(0);
  #type = new Uint8Array(0);
  #page = new Uint8Array(0);
  #dwell = new Uint8Array(0);
  #value = new Uint8Array(0);

  constructor(
    private readonly image: ImageSpec,
    private readonly header: SessionHeader,
  ) {
    this.#h = image.rows;
  }

  grow(capacity: number): void {
    const h = this.#h;
    this.#len = grown(this.#len, capacity);
    this.#prevRel = grown(this.#prevRel, capacity);
    this.#rel = grown(this.#rel, capacity * h);
    this.#fp = grown(this.#fp, capacity * h);
    this.#type = grown(this.#type, capacity * h);
    this.#page = grown(this.#page, capacity * h);
    this.#dwell = grown(this.#dwell, capacity * h);
    this.#value = grown(this.#value, capacity * h);
  }

  open(slot: number): void {
    this.#len[slot] = 0;
    this.#prevRel[slot] = NONE;
  }

  // Keeps the H greatest events by (time, fingerprint, type, page, dwell, value): a total order
  // on everything the image shows, so the window does not depend on arrival order.
  add(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean {
    const page = event.page === null || this.image.pageBuckets === 0 ? NO_PAGE : pageBucket(event.page, this.image.pageBuckets);
    return this.#insert(slot, ts, fullFp & 0xffff, type, page, quantizeDwell(event.durationMs, this.image), quantizeValue(event.value, this.image));
  }

  lastTs(slot: number): number {
    return this.header.base[slot]! + this.#rel[slot * this.#h + this.#len[slot]! - 1]!;
  }

  // Both windows hold the greatest rows of their own events, so the greatest rows of the union
  // are among them: the result is what one session would hold had the events arrived in order.
  merge(from: number, into: number): void {
    const { base, eventCount } = this.header;
    this.#rebase(into, Math.min(base[into]!, base[from]!));
    const o = from * this.#h;
    const fromBase = base[from]!;
    for (let i = 0; i < this.#len[from]!; i++) {
      const j = o + i;
      if (!this.#insert(into, fromBase + this.#rel[j]!, this.#fp[j]!, this.#type[j]!, this.#page[j]!, this.#dwell[j]!, this.#value[j]!)) {
        eventCount[into] = Math.max(0, eventCount[into]! - 1);
      }
    }
    if (this.#prevRel[from] !== NONE) this.#notePrev(into, fromBase + this.#prevRel[from]! - base[into]!);
  }

  view(slot: number, typeName: (t: number) => string): { rows: PackedStepRows; windowStart: number; windowEnd: number; recent: string[] } {
    const h = this.#h;
    const o = slot * h;
    const len = this.#len[slot]!;
    const base = this.header.base[slot]!;
    // one buffer for the five columns, copied in one loop: a view is taken per scored update,
    // and five slices (each its own ArrayBuffer) plus Array.from with a map function cost
    // several times as much
    const buf = new ArrayBuffer(8 * len);
    const rel = new Uint32Array(buf, 0, len);
    const type = new Uint8Array(buf, 4 * len, len);
    const page = new Uint8Array(buf, 5 * len, len);
    const dwell = new Uint8Array(buf, 6 * len, len);
    const value = new Uint8Array(buf, 7 * len, len);
    const recent = new Array<string>(len);
    for (let i = 0; i < len; i++) {
      rel[i] = this.#rel[o + i]!;
      type[i] = this.#type[o + i]!;
      page[i] = this.#page[o + i]!;
      dwell[i] = this.#dwell[o + i]!;
      value[i] = this.#value[o + i]!;
      recent[i] = typeName(type[i]!);
    }
    const rows: PackedStepRows = { mode: 'steps', len, rel, type, page, dwell, value, prevRel: this.#prevRel[slot] === NONE ? -1 : this.#prevRel[slot]! };
    return { rows, windowStart: base + (len > 0 ? rel[0]! : 0), windowEnd: base + (len > 0 ? rel[len - 1]! : 0), recent };
  }

  // Offsets are unsigned: an event older than the session's first one moves the origin.
  #rebase(slot: number, base: number): void {
    const delta = this.header.base[slot]! - base;
    if (delta <= 0) return;
    const o = slot * this.#h;
    for (let i = 0; i < this.#len[slot]!; i++) this.#rel[o + i]! += delta;
    if (this.#prevRel[slot] !== NONE) this.#prevRel[slot]! += delta;
    this.header.base[slot] = base;
  }

  #notePrev(slot: number, rel: number): void {
    if (this.#prevRel[slot] === NONE || rel > this.#prevRel[slot]!) this.#prevRel[slot] = rel;
  }

  #insert(slot: number, ts: number, fp: number, type: number, page: number, dwell: number, value: number): boolean {
    const h = this.#h;
    const o = slot * h;
    const rel = this.#rel;
    this.#rebase(slot, ts);
    const r = ts - this.header.base[slot]!;
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
}
