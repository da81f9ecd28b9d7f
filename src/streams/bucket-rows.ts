// Buckets mode of the session store: per slot H consecutive time buckets of aggregates (counts
// per type and page column, summed dwell and value, first and last event time), stored as a ring
// by bucket number, and a ring of the last DEDUPE_RING arrivals for duplicate detection and
// reasons: rows × (2·C + 40) B per slot, C = types + 1 + page buckets.
import { type ImageSpec } from '../journey/image-spec.ts';
import { pageBucket } from '../journey/page-category.ts';
import { type BucketRows as PackedBucketRows } from '../journey/rasterize.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { type SessionHeader, grown } from './session-header.ts';
import { type SlotRows } from './slot-rows.ts';

/** Arrivals remembered per session in buckets mode (duplicates beyond them only count). */
export const DEDUPE_RING = 16;

export class BucketRows implements SlotRows {
  readonly #h: number;
  /** Columns per row: event types, "other", page buckets. */
  readonly #c: number;
  // slot × H (counts slot × H × C)
  #counts = new Uint16Array(0);
  #dwell = new Float64Array(0);
  #value = new Float64Array(0);
  #min = new Float64Array(0);
  #max = new Float64Array(0);
  /** The bucket number a ring row holds, NaN when empty. */
  #tag = new Float64Array(0);
  /** Per slot: time of the newest event before row 0 (NaN if none). */
  #prev = new Float64Array(0);
  // slot × DEDUPE_RING
  #ringFp = new Uint32Array(0);
  #ringTs = new Float64Array(0);
  #ringType = new Uint8Array(0);

  constructor(
    private readonly image: ImageSpec,
    private readonly header: SessionHeader,
  ) {
    this.#h = image.rows;
    this.#c = image.eventTypes.length + 1 + image.pageBuckets;
  }

  grow(capacity: number): void {
    const h = this.#h;
    this.#counts = grown(this.#counts, capacity * h * this.#c);
    this.#dwell = grown(this.#dwell, capacity * h);
    this.#value = grown(this.#value, capacity * h);
    this.#min = grown(this.#min, capacity * h);
    this.#max = grown(this.#max, capacity * h);
    this.#tag = grown(this.#tag, capacity * h);
    this.#prev = grown(this.#prev, capacity);
    this.#ringFp = grown(this.#ringFp, capacity * DEDUPE_RING);
    this.#ringTs = grown(this.#ringTs, capacity * DEDUPE_RING);
    this.#ringType = grown(this.#ringType, capacity * DEDUPE_RING);
  }

  open(slot: number): void {
    const h = this.#h;
    this.#counts.fill(0, slot * h * this.#c, (slot + 1) * h * this.#c);
    this.#dwell.fill(0, slot * h, (slot + 1) * h);
    this.#value.fill(0, slot * h, (slot + 1) * h);
    this.#min.fill(NaN, slot * h, (slot + 1) * h);
    this.#max.fill(NaN, slot * h, (slot + 1) * h);
    this.#tag.fill(NaN, slot * h, (slot + 1) * h);
    this.#prev[slot] = NaN;
  }

  add(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean {
    if (!this.#add(slot, event, ts, fullFp, type)) return false;
    if (ts > this.header.last[slot]!) this.header.last[slot] = ts;
    return true;
  }

  lastTs(slot: number): number {
    return this.header.last[slot]!;
  }

  merge(from: number, into: number): void {
    const { base, last: lastTs, eventCount } = this.header;
    if (base[from]! < base[into]!) base[into] = base[from]!;
    const h = this.#h;
    const c = this.#c;
    const last = Math.max(lastTs[into]!, lastTs[from]!);
    this.#roll(into, base[into]!, last);
    lastTs[into] = last;
    const start = this.#windowStartBucket(base[into]!, last);
    const prevFrom = this.#prev[from]!;
    if (!Number.isNaN(prevFrom)) this.#notePrev(into, prevFrom);
    for (let r = 0; r < h; r++) {
      const src = from * h + r;
      const b = this.#tag[src]!;
      if (Number.isNaN(b)) continue;
      if (b < start) {
        this.#notePrev(into, this.#max[src]!);
        continue;
      }
      const dst = this.#row(into, b);
      for (let k = 0; k < c; k++) this.#counts[dst * c + k] = Math.min(0xffff, this.#counts[dst * c + k]! + this.#counts[src * c + k]!);
      this.#dwell[dst]! += this.#dwell[src]!;
      this.#value[dst]! += this.#value[src]!;
      if (!(this.#min[dst]! <= this.#min[src]!)) this.#min[dst] = this.#min[src]!;
      if (!(this.#max[dst]! >= this.#max[src]!)) this.#max[dst] = this.#max[src]!;
    }
    const n = eventCount[from]!;
    for (let k = Math.max(0, n - DEDUPE_RING); k < n; k++) {
      const src = from * DEDUPE_RING + (k % DEDUPE_RING);
      this.#remember(into, this.#ringFp[src]!, this.#ringTs[src]!, this.#ringType[src]!, eventCount[into]! + (k - Math.max(0, n - DEDUPE_RING)));
    }
  }

  view(slot: number, typeName: (t: number) => string): { rows: PackedBucketRows; windowStart: number; windowEnd: number; recent: string[] } {
    const h = this.#h;
    const c = this.#c;
    const o = slot * h;
    const start = this.#windowStartBucket(this.header.base[slot]!, this.header.last[slot]!);
    const rows: PackedBucketRows = {
      mode: 'buckets',
      counts: new Uint16Array(h * c),
      dwellMs: new Float64Array(h),
      valueCents: new Float64Array(h),
      minTs: new Float64Array(h).fill(NaN),
      maxTs: new Float64Array(h).fill(NaN),
      prevTs: this.#prev[slot]!,
    };
    for (let r = 0; r < h; r++) {
      const row = o + mod(start + r, h);
      if (this.#tag[row] !== start + r) continue;
      rows.counts.set(this.#counts.subarray(row * c, (row + 1) * c), r * c);
      rows.dwellMs[r] = this.#dwell[row]!;
      rows.valueCents[r] = this.#value[row]!;
      rows.minTs[r] = this.#min[row]!;
      rows.maxTs[r] = this.#max[row]!;
    }
    const n = this.header.eventCount[slot]!;
    const recent: string[] = [];
    for (let k = Math.max(0, n - DEDUPE_RING); k < n; k++) recent.push(typeName(this.#ringType[slot * DEDUPE_RING + (k % DEDUPE_RING)]!));
    return { rows, windowStart: start * this.image.bucketMs, windowEnd: this.header.last[slot]!, recent };
  }

  // Rows are the buckets [start, start + H) with start = max(first bucket, last bucket − H + 1),
  // a function of the session's first and last event only; row storage is a ring by bucket.
  #windowStartBucket(first: number, last: number): number {
    const bm = this.image.bucketMs;
    return Math.max(Math.floor(first / bm), Math.floor(last / bm) - this.#h + 1);
  }

  #add(slot: number, event: ClickEvent, ts: number, fullFp: number, type: number): boolean {
    const { base, last: lastTs } = this.header;
    const n = this.header.eventCount[slot]!;
    const ro = slot * DEDUPE_RING;
    for (let k = 0; k < Math.min(n, DEDUPE_RING); k++) {
      if (this.#ringFp[ro + k] === fullFp && this.#ringTs[ro + k] === ts && this.#ringType[ro + k] === type) return false;
    }
    this.#remember(slot, fullFp, ts, type, n);
    const first = Math.min(base[slot]!, ts);
    const last = n > 0 ? Math.max(lastTs[slot]!, ts) : ts;
    if (n > 0) this.#roll(slot, first, last);
    base[slot] = first;
    const b = Math.floor(ts / this.image.bucketMs);
    if (b < this.#windowStartBucket(first, last)) {
      this.#notePrev(slot, ts);
      return true;
    }
    const row = this.#row(slot, b);
    const c = this.#c;
    const co = row * c;
    if (this.#counts[co + type]! < 0xffff) this.#counts[co + type]! += 1;
    if (event.page !== null && this.image.pageBuckets > 0) {
      const p = co + this.image.eventTypes.length + 1 + pageBucket(event.page, this.image.pageBuckets);
      if (this.#counts[p]! < 0xffff) this.#counts[p]! += 1;
    }
    // integers (ms, cents) so that sums are exact and independent of arrival order
    if (event.durationMs !== null && event.durationMs > 0) this.#dwell[row]! += Math.round(event.durationMs);
    if (event.value !== null && event.value > 0) this.#value[row]! += Math.round(event.value * 100);
    if (!(this.#min[row]! <= ts)) this.#min[row] = ts;
    if (!(this.#max[row]! >= ts)) this.#max[row] = ts;
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
  #roll(slot: number, first: number, last: number): void {
    const h = this.#h;
    const oldStart = this.#windowStartBucket(this.header.base[slot]!, this.header.last[slot]!);
    const start = this.#windowStartBucket(first, last);
    for (let b = oldStart; b < start && b < oldStart + h; b++) {
      const row = slot * h + mod(b, h);
      if (this.#tag[row] !== b) continue;
      this.#notePrev(slot, this.#max[row]!);
      this.#clear(row);
    }
  }

  #row(slot: number, b: number): number {
    const row = slot * this.#h + mod(b, this.#h);
    if (this.#tag[row] !== b) {
      this.#clear(row);
      this.#tag[row] = b;
    }
    return row;
  }

  #notePrev(slot: number, ts: number): void {
    const prev = this.#prev[slot]!;
    if (Number.isNaN(prev) || ts > prev) this.#prev[slot] = ts;
  }

  #clear(row: number): void {
    const c = this.#c;
    this.#counts.fill(0, row * c, (row + 1) * c);
    this.#dwell[row] = 0;
    this.#value[row] = 0;
    this.#min[row] = NaN;
    this.#max[row] = NaN;
    this.#tag[row] = NaN;
  }
}

function mod(a: number, n: number): number {
  const m = a % n;
  return m < 0 ? m + n : m;
}
