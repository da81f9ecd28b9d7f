// What scoring reads of a micro-batch, in compact typed arrays that move between threads: the
// sessions' packed rows (the few hundred bytes per session the store keeps, not their images),
// their event counts and their timing. A scoring worker rasterizes from these directly
// (subarrays, no copies), so the main thread never builds an image and never clones an object.
import { type ImageSpec } from '../journey/image-spec.ts';
import { type BucketRows, type PackedRows, type StepRows, rasterize } from '../journey/rasterize.ts';
import { type SessionView } from '../journey/session-view.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

/** When a view was scored (asOf), its window, first event and event count: what the readout reads of it. */
export type ViewTiming = Pick<SessionView, 'asOf' | 'windowStart' | 'windowEnd' | 'sessionStart' | 'eventCount'>;

/** What scoring needs of each view of a batch, whether SessionView objects or packed arrays. */
export interface ScoringInput {
  readonly length: number;
  /** Writes view i's image (H·W floats) into `out`. */
  rasterize(i: number, out: Float32Array): void;
  eventCount(i: number): number;
  timing(i: number): ViewTiming;
}

/** SessionViews as a ScoringInput (inline scoring). */
export function viewsInput(views: readonly SessionView[]): ScoringInput {
  return {
    length: views.length,
    rasterize: (i, out) => void views[i]!.rasterize(out),
    eventCount: (i) => views[i]!.eventCount,
    timing: (i) => views[i]!,
  };
}

/** A batch of views packed for transfer: plain typed arrays (structured-clone and transfer friendly). */
export interface PackedViews {
  mode: 'steps' | 'buckets';
  n: number;
  /** Per view: asOf, windowEnd, sessionStart, eventCount, prevRel (steps) or prevTs (buckets), windowStart. */
  facts: Float64Array;
  /** Steps: per view len (Int32). */
  lens?: Int32Array;
  /** Steps: rel [n·H]; type, page, dwell, value planes [4·n·H]. */
  rel?: Uint32Array;
  bytes?: Uint8Array;
  /** Buckets: counts [n·H·C]; dwellMs, valueCents, minTs, maxTs planes [4·n·H]. */
  counts?: Uint16Array;
  sums?: Float64Array;
}

const FACTS = 6;

/** The buffers to transfer with a PackedViews (they become unusable on this side). */
export function packedBuffers(p: PackedViews): ArrayBuffer[] {
  return [p.facts, p.lens, p.rel, p.bytes, p.counts, p.sums].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

export function packViews(views: readonly SessionView[], spec: ImageSpec): PackedViews {
  const n = views.length;
  const h = spec.rows;
  const facts = new Float64Array(n * FACTS);
  for (let i = 0; i < n; i++) {
    const v = views[i]!;
    const o = i * FACTS;
    facts[o] = v.asOf;
    facts[o + 1] = v.windowEnd;
    facts[o + 2] = v.sessionStart;
    facts[o + 3] = v.eventCount;
    facts[o + 5] = v.windowStart;
  }
  if (spec.rowMode === 'steps') {
    const lens = new Int32Array(n);
    const rel = new Uint32Array(n * h);
    const bytes = new Uint8Array(4 * n * h);
    const plane = n * h;
    for (let i = 0; i < n; i++) {
      const rows = views[i]!.rows as StepRows;
      const len = Math.min(rows.len, h);
      const o = i * h;
      lens[i] = len;
      facts[i * FACTS + 4] = rows.prevRel;
      // element by element: a view's rows are a few dozen steps, too short for subarray + set
      // (a new typed array per column and view) to pay off
      for (let j = 0; j < len; j++) {
        rel[o + j] = rows.rel[j]!;
        bytes[o + j] = rows.type[j]!;
        bytes[plane + o + j] = rows.page[j]!;
        bytes[2 * plane + o + j] = rows.dwell[j]!;
        bytes[3 * plane + o + j] = rows.value[j]!;
      }
    }
    return { mode: 'steps', n, facts, lens, rel, bytes };
  }
  const c = spec.eventTypes.length + 1 + spec.pageBuckets;
  const counts = new Uint16Array(n * h * c);
  const sums = new Float64Array(4 * n * h);
  const plane = n * h;
  for (let i = 0; i < n; i++) {
    const rows = views[i]!.rows as BucketRows;
    const o = i * h;
    facts[i * FACTS + 4] = rows.prevTs;
    counts.set(rows.counts.subarray(0, h * c), o * c);
    sums.set(rows.dwellMs.subarray(0, h), o);
    sums.set(rows.valueCents.subarray(0, h), plane + o);
    sums.set(rows.minTs.subarray(0, h), 2 * plane + o);
    sums.set(rows.maxTs.subarray(0, h), 3 * plane + o);
  }
  return { mode: 'buckets', n, facts, counts, sums };
}

/** A PackedViews read back as a ScoringInput (subarrays over the packed arrays, no copies). */
export function packedInput(p: PackedViews, spec: ImageSpec): ScoringInput {
  if (p.mode !== spec.rowMode) throw new JourneylensError(ErrorCodes.INTERNAL, `a ${p.mode} batch for a ${spec.rowMode} image spec`);
  const h = spec.rows;
  const plane = p.n * h;
  const rowsOf = (i: number): PackedRows => {
    const o = i * h;
    if (p.mode === 'steps') {
      const len = p.lens![i]!;
      const b = p.bytes!;
      return {
        mode: 'steps',
        len,
        rel: p.rel!.subarray(o, o + len),
        type: b.subarray(o, o + len),
        page: b.subarray(plane + o, plane + o + len),
        dwell: b.subarray(2 * plane + o, 2 * plane + o + len),
        value: b.subarray(3 * plane + o, 3 * plane + o + len),
        prevRel: p.facts[i * FACTS + 4]!,
      };
    }
    const c = spec.eventTypes.length + 1 + spec.pageBuckets;
    const s = p.sums!;
    return {
      mode: 'buckets',
      counts: p.counts!.subarray(o * c, (o + h) * c),
      dwellMs: s.subarray(o, o + h),
      valueCents: s.subarray(plane + o, plane + o + h),
      minTs: s.subarray(2 * plane + o, 2 * plane + o + h),
      maxTs: s.subarray(3 * plane + o, 3 * plane + o + h),
      prevTs: p.facts[i * FACTS + 4]!,
    };
  };
  return {
    length: p.n,
    rasterize: (i, out) => void rasterize(rowsOf(i), spec, out),
    eventCount: (i) => p.facts[i * FACTS + 3]!,
    timing: (i) => {
      const o = i * FACTS;
      const f = p.facts;
      return { asOf: f[o]!, windowEnd: f[o + 1]!, sessionStart: f[o + 2]!, eventCount: f[o + 3]!, windowStart: f[o + 5]! };
    },
  };
}
