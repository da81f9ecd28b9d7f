// The churn readout's feature row, built by one function in training and serving, from what a
// scored view carries: the embedding, the assigned centroid's churn rate, the labelled-neighbour
// churn rate, the rasterized image and the view's timing. Which features a bundle uses is read
// from the readout's featureNames, so older readouts keep working. The names:
//
// - `emb<j>`, `clusterChurnRate`, `knnChurnRate`: the embedding and the two rates.
// - `img:<column>`: the image's column means (per event type the mean of its log-scaled per-row
//   value, plus mean dwell/gap/value): cheap pooled statistics of the very image the encoder sees.
// - `quietMinutes`: log1p of how long the session has been quiet when it is scored (minutes from
//   its last event to the view's asOf): 0 for an update taken at an event, the silence so far for
//   a quiet re-score or a close. The image ends at the last event, so without it a session that
//   stopped a week ago looks like one that is still going (docs/quality.md).
// - `ageMinutes`: log1p of minutes from the first event to asOf.
// - Summary features (issue 19), computed from the served image and timing only, so a live
//   session gets exactly what training saw. Per-type counts are recovered from the image (steps
//   mode: its one-hot rows, i.e. the last H events; buckets mode: the log-scaled cells inverted).
//   "Now" is asOf's row in buckets mode (rows are time buckets), the last event's row in steps
//   mode; windows of n rows are counted back from now ("rows before the end"):
//   `s:count:<type>` log1p events of the type in the image, `s:events` log1p of all the
//   session's events, `s:activeRows` rows with an event, `s:quietUnits`/`s:ageUnits` quiet time and
//   age in the image's time unit (the bucket; steps mode: gapCapMs), `s:activeRate` active rows
//   per unit of age, `s:streak` the longest run of consecutive active rows, `s:lastRowEvents`
//   log1p events in the last active row, `head<n>:active` active rows among the first n,
//   `win<i>x<n>:active|events|<type>` active rows, log1p events and log1p events per type in
//   the i-th window of n rows before now (i = 0: the most recent).
// On KDD (one row per day) these say when in the course a learner was active, which the column
// means and the embedding keep only loosely.
import { type SessionView } from '../journey/session-view.ts';
import { imageColumns, imageWidth, type ImageSpec } from '../journey/image-spec.ts';
import { type Vector } from './vectors.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export const IMAGE_FEATURE_PREFIX = 'img:';
export const QUIET_FEATURE = 'quietMinutes';
export const AGE_FEATURE = 'ageMinutes';
export const SUMMARY_PREFIX = 's:';
/** Windows of summary features before "now" (each ceil(H / SUMMARY_WINDOWS) rows). */
export const SUMMARY_WINDOWS = 4;

export function imageFeatureNames(spec: ImageSpec): string[] {
  return imageColumns(spec).map((c) => `${IMAGE_FEATURE_PREFIX}${c}`);
}

/** Rows per summary window: SUMMARY_WINDOWS windows cover the image. */
export function summaryWindowRows(spec: ImageSpec): number {
  return Math.ceil(spec.rows / SUMMARY_WINDOWS);
}

/** The summary features of a spec, in a fixed order. */
export function summaryFeatureNames(spec: ImageSpec): string[] {
  const types = [...spec.eventTypes, 'other'];
  const n = summaryWindowRows(spec);
  const names = [
    ...types.map((t) => `${SUMMARY_PREFIX}count:${t}`),
    ...['events', 'activeRows', 'quietUnits', 'ageUnits', 'activeRate', 'streak', 'lastRowEvents'].map((f) => `${SUMMARY_PREFIX}${f}`),
    `head${n}:active`,
  ];
  for (let i = 0; i < SUMMARY_WINDOWS; i++) names.push(...['active', 'events', ...types].map((f) => `win${i}x${n}:${f}`));
  return names;
}

/**
 * The penalty group of a feature (readout-fit.ts may penalise the groups apart): 'summary' for
 * the time and summary features, 'embedding' for the embedding, the rates derived from it and
 * the image column means.
 */
export function readoutFeatureGroup(name: string): 'summary' | 'embedding' {
  return name === QUIET_FEATURE || name === AGE_FEATURE || name.startsWith(SUMMARY_PREFIX) || /^(win\d+x\d+|head\d+):/.test(name) ? 'summary' : 'embedding';
}

/** When the session was scored (asOf), its image's first row (windowStart), its last event (windowEnd), its first event (sessionStart) and its events so far. */
export type ReadoutTiming = Pick<SessionView, 'asOf' | 'windowStart' | 'windowEnd' | 'sessionStart' | 'eventCount'>;

export interface ReadoutInputs {
  embedding: Vector;
  clusterChurnRate: number;
  knnChurnRate: number;
  /** The rasterized image, row-major [spec.rows, imageWidth(spec)]. */
  image: Float32Array;
  timing: ReadoutTiming;
}

/** Per-call statistics of the image, computed once for all summary features of a row. */
interface ImageStats {
  /** Recovered events per row and type column ([rows, types]). */
  counts: Float64Array;
  rowTotal: Float64Array;
  activeRows: number;
  lastActive: number;
  /** Row index of "now" (may be past the last row). */
  now: number;
}

function imageStats(spec: ImageSpec, x: ReadoutInputs): ImageStats {
  const h = spec.rows;
  const w = imageWidth(spec);
  const v = spec.eventTypes.length + 1;
  const counts = new Float64Array(h * v);
  const rowTotal = new Float64Array(h);
  const logCap = Math.log1p(spec.countCap);
  let activeRows = 0;
  let lastActive = -1;
  for (let r = 0; r < h; r++) {
    let total = 0;
    for (let k = 0; k < v; k++) {
      const cell = x.image[r * w + k]!;
      if (!(cell > 0)) continue;
      // steps: one-hot rows; buckets: logScale(count, countCap) inverted (counts are integers)
      const c = spec.rowMode === 'steps' ? 1 : Math.round(Math.expm1(cell * logCap));
      counts[r * v + k] = c;
      total += c;
    }
    rowTotal[r] = total;
    if (total > 0) {
      activeRows++;
      lastActive = r;
    }
  }
  const now = spec.rowMode === 'buckets' ? Math.floor((x.timing.asOf - x.timing.windowStart) / spec.bucketMs) : lastActive;
  return { counts, rowTotal, activeRows, lastActive, now };
}

type Extractor = (x: ReadoutInputs, stats: () => ImageStats, means: () => Float64Array) => number;

function unknown(name: string, why: string): JourneylensError {
  return new JourneylensError(ErrorCodes.BUNDLE_INVALID, `readout feature ${name} ${why}`);
}

function extractor(name: string, spec: ImageSpec): Extractor {
  const columns = imageColumns(spec);
  const types = [...spec.eventTypes, 'other'];
  const v = types.length;
  const unitMs = spec.rowMode === 'buckets' ? spec.bucketMs : spec.gapCapMs;
  const quiet = (x: ReadoutInputs) => Math.max(0, x.timing.asOf - x.timing.windowEnd);
  const age = (x: ReadoutInputs) => Math.max(0, x.timing.asOf - x.timing.sessionStart);
  if (/^emb\d+$/.test(name)) {
    const j = Number(name.slice(3));
    return (x) => {
      if (j >= x.embedding.length) throw unknown(name, `needs a ${j + 1}-d embedding, got ${x.embedding.length}-d`);
      return x.embedding[j]!;
    };
  }
  if (name === 'clusterChurnRate') return (x) => x.clusterChurnRate;
  if (name === 'knnChurnRate') return (x) => x.knnChurnRate;
  if (name === QUIET_FEATURE) return (x) => Math.log1p(quiet(x) / 60_000);
  if (name === AGE_FEATURE) return (x) => Math.log1p(age(x) / 60_000);
  if (name.startsWith(IMAGE_FEATURE_PREFIX)) {
    const j = columns.indexOf(name.slice(IMAGE_FEATURE_PREFIX.length));
    if (j < 0) throw unknown(name, 'names no image column');
    return (_x, _s, means) => means()[j]!;
  }
  if (name.startsWith(SUMMARY_PREFIX)) {
    const what = name.slice(SUMMARY_PREFIX.length);
    if (what.startsWith('count:')) {
      const k = types.indexOf(what.slice(6));
      if (k < 0) throw unknown(name, 'names no event type of the image spec');
      return (_x, s) => {
        const { counts, rowTotal } = s();
        let c = 0;
        for (let r = 0; r < rowTotal.length; r++) c += counts[r * v + k]!;
        return Math.log1p(c);
      };
    }
    switch (what) {
      case 'events':
        return (x) => Math.log1p(x.timing.eventCount);
      case 'activeRows':
        return (_x, s) => s().activeRows;
      case 'quietUnits':
        return (x) => quiet(x) / unitMs;
      case 'ageUnits':
        return (x) => age(x) / unitMs;
      case 'activeRate':
        return (x, s) => s().activeRows / Math.max(1, age(x) / unitMs);
      case 'streak':
        return (_x, s) => {
          let run = 0;
          let best = 0;
          for (const t of s().rowTotal) {
            run = t > 0 ? run + 1 : 0;
            if (run > best) best = run;
          }
          return best;
        };
      case 'lastRowEvents':
        return (_x, s) => {
          const { lastActive, rowTotal } = s();
          return Math.log1p(lastActive >= 0 ? rowTotal[lastActive]! : 0);
        };
      default:
        throw unknown(name, 'is not a summary feature');
    }
  }
  const head = /^head(\d+):active$/.exec(name);
  if (head) {
    const n = Number(head[1]);
    return (_x, s) => {
      const { rowTotal } = s();
      let c = 0;
      for (let r = 0; r < Math.min(n, rowTotal.length); r++) if (rowTotal[r]! > 0) c++;
      return c;
    };
  }
  const win = /^win(\d+)x(\d+):(.+)$/.exec(name);
  if (win) {
    const i = Number(win[1]);
    const n = Number(win[2]);
    const what = win[3]!;
    const k = types.indexOf(what);
    if (n < 1) throw unknown(name, 'needs windows of at least one row');
    if (what !== 'active' && what !== 'events' && k < 0) throw unknown(name, 'names no event type of the image spec');
    return (_x, s) => {
      const { counts, rowTotal, now } = s();
      // rows now − n·i − n + 1 … now − n·i
      const to = Math.min(rowTotal.length - 1, now - n * i);
      const from = Math.max(0, now - n * i - n + 1);
      let c = 0;
      for (let r = from; r <= to; r++) {
        if (what === 'active') c += rowTotal[r]! > 0 ? 1 : 0;
        else c += what === 'events' ? rowTotal[r]! : counts[r * v + k]!;
      }
      return what === 'active' ? c : Math.log1p(c);
    };
  }
  throw unknown(name, 'is unknown');
}

/**
 * Compiles the row writer for a readout's feature names and the bundle's image spec; throws
 * BUNDLE_INVALID for a name it cannot compute. The writer fills `out` (one value per name) from
 * its inputs alone, reusing its scratch between calls (the image column means are summed once per
 * row into one buffer, when a feature needs them), so it allocates no row and no means per call
 * (the scoring worker calls it once per scored view); a writer is for one thread, one call at a time.
 */
export function readoutRowWriter(featureNames: readonly string[], spec: ImageSpec): (x: ReadoutInputs, out: Float64Array) => void {
  const extractors = featureNames.map((name) => extractor(name, spec));
  const p = featureNames.length;
  const wantsMeans = featureNames.some((name) => name.startsWith(IMAGE_FEATURE_PREFIX));
  const h = spec.rows;
  const w = imageWidth(spec);
  const means = new Float64Array(w);
  const getMeans = () => means;
  return (x, out) => {
    if (x.image.length < h * w) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `readout row: the image has ${x.image.length} values, the spec needs ${h}×${w}`);
    if (wantsMeans) {
      const image = x.image;
      means.fill(0);
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) means[c]! += image[r * w + c]!;
      for (let c = 0; c < w; c++) means[c]! /= h;
    }
    let stats: ImageStats | undefined;
    const getStats = () => (stats ??= imageStats(spec, x));
    for (let j = 0; j < p; j++) out[j] = extractors[j]!(x, getStats, getMeans);
  };
}

/**
 * Compiles the row builder for a readout's feature names and the bundle's image spec; throws
 * BUNDLE_INVALID for a name it cannot compute. The builder is a pure function of its inputs,
 * returning a fresh row.
 */
export function readoutRowBuilder(featureNames: readonly string[], spec: ImageSpec): (x: ReadoutInputs) => Float64Array {
  const write = readoutRowWriter(featureNames, spec);
  return (x) => {
    const row = new Float64Array(featureNames.length);
    write(x, row);
    return row;
  };
}

/** One feature row in `featureNames` order (see the file comment for the names). */
export function buildReadoutRow(featureNames: readonly string[], spec: ImageSpec, x: ReadoutInputs): Float64Array {
  return readoutRowBuilder(featureNames, spec)(x);
}
