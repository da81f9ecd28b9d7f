// The journey image spec: how a session's events become an H×W image. It is versioned and
// stored in the model bundle, because an encoder is only valid for the spec it was trained on.
// (The streams issue owns the rasterizer; this file is the shared contract.)

export const IMAGE_SPEC_VERSION = 1 as const;

export interface ImageSpec {
  version: typeof IMAGE_SPEC_VERSION;
  /** H: number of rows kept per session (the rolling window). */
  rows: number;
  /**
   * 'steps': one row per event, in event-time order (the last H events).
   * 'buckets': one row per fixed time bucket since the session start (e.g. one per day for
   * the KDD data); a row holds that bucket's aggregated counts.
   */
  rowMode: 'steps' | 'buckets';
  /** Bucket width in ms when rowMode is 'buckets'. */
  bucketMs: number;
  /** Event-type vocabulary; one one-hot column each, plus a final "other" column. */
  eventTypes: string[];
  /** Number of hashed page-category columns (0 disables them). */
  pageBuckets: number;
  /** Dwell time (durationMs) is log-scaled: log1p(ms) / log1p(dwellCapMs), clipped to [0,1]. */
  dwellCapMs: number;
  /** Gap since the previous step, log-scaled the same way against gapCapMs. */
  gapCapMs: number;
  /** Value is log-scaled: log1p(max(0,value)) / log1p(valueCap). */
  valueCap: number;
  /** In 'buckets' mode counts are log-scaled against this cap. */
  countCap: number;
}

export interface SessionizationSpec {
  /** Inactivity gap that closes a session (ms). Default 30 min. */
  gapMs: number;
  /** Maximum session length (ms) from its first event. */
  maxSessionMs: number;
  /** Allowed lateness for the per-partition event-time watermark (ms). */
  allowedLatenessMs: number;
}

/** `spec.json` beside an events file (e.g. written by `journeylens import kddcup2015`). */
export interface DataSpec {
  sessionization: SessionizationSpec;
  image: ImageSpec;
}

export const DEFAULT_EVENT_TYPES = [
  'page_view',
  'search',
  'product_view',
  'add_to_cart',
  'remove_from_cart',
  'checkout',
  'purchase',
  'support_contact',
  'login',
  'logout',
] as const;

export const defaultImageSpec: ImageSpec = {
  version: IMAGE_SPEC_VERSION,
  rows: 32,
  rowMode: 'steps',
  bucketMs: 60_000,
  eventTypes: [...DEFAULT_EVENT_TYPES],
  pageBuckets: 8,
  dwellCapMs: 30 * 60_000,
  gapCapMs: 30 * 60_000,
  valueCap: 1000,
  countCap: 100,
};

export const defaultSessionizationSpec: SessionizationSpec = {
  gapMs: 30 * 60_000,
  maxSessionMs: 24 * 3600_000,
  allowedLatenessMs: 60_000,
};

/** Column names, left to right (W = columns.length). */
export function imageColumns(spec: ImageSpec): string[] {
  const pages = Array.from({ length: spec.pageBuckets }, (_, i) => `page#${i}`);
  return [...spec.eventTypes, 'other', ...pages, 'dwell', 'gap', 'value'];
}

export function imageWidth(spec: ImageSpec): number {
  return spec.eventTypes.length + 1 + spec.pageBuckets + 3;
}
