// The journey image spec: how a session's events become an H×W image. It is versioned and
// stored in the model bundle, because an encoder is only valid for the spec it was trained on.
// Validation runs whenever a spec is parsed, so a bad spec.json or bundle manifest is refused
// with a message that names the field and the fix instead of producing odd images later.
import { ErrorCodes, UserError } from '../errors.ts';

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
  /**
   * Quiet re-scores (ms; 0 or absent: off). An open session with no new event is scored again
   * each time the watermark passes another `quietEveryMs` since its last event, so its churn
   * risk follows its silence (the readout's `quietMinutes` feature) before the gap closes it.
   */
  quietEveryMs?: number;
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

/** Limits that keep the packed session state in small integer types (see src/streams/session-store.ts). */
export const IMAGE_SPEC_LIMITS = {
  maxRows: 1024,
  /** Type index and page bucket are stored in one byte each. */
  maxEventTypes: 254,
  maxPageBuckets: 254,
  /** Step timestamps are stored as uint32 ms offsets from the session start. */
  maxSessionMs: 0xffff_ffff,
} as const;

// ---- validation -------------------------------------------------------------------------------

function invalid(message: string): UserError {
  return new UserError(ErrorCodes.CONFIG_INVALID, message, { exitCode: 2 });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function asRecord(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(`${path} must be a JSON object, got ${describe(v)}.`);
  }
  return v as Record<string, unknown>;
}

function int(o: Record<string, unknown>, key: string, path: string, min: number, max: number, hint = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${path}.${key} must be an integer from ${min} to ${max}, got ${describe(v)}.${hint}`);
  }
  return v;
}

function positive(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw invalid(`${path}.${key} must be a positive number, got ${describe(v)}.`);
  }
  return v;
}

const KNOWN_IMAGE_KEYS = new Set(Object.keys(defaultImageSpec));
const KNOWN_SESSION_KEYS = new Set([...Object.keys(defaultSessionizationSpec), 'quietEveryMs']);

/**
 * Checks an image spec (e.g. from spec.json or a bundle manifest) and returns a clean copy.
 * `path` prefixes the field names in error messages ("image.rows must be ...").
 */
export function validateImageSpec(value: unknown, path = 'image'): ImageSpec {
  const o = asRecord(value, path);
  for (const k of Object.keys(o)) {
    if (!KNOWN_IMAGE_KEYS.has(k)) throw invalid(`${path}.${k} is not an image spec field; known fields: ${[...KNOWN_IMAGE_KEYS].join(', ')}.`);
  }
  if (o.version !== IMAGE_SPEC_VERSION) {
    throw invalid(`${path}.version must be ${IMAGE_SPEC_VERSION}, got ${describe(o.version)}; this build of journeylens reads image spec version ${IMAGE_SPEC_VERSION} only (retrain the bundle or upgrade journeylens).`);
  }
  const rows = int(o, 'rows', path, 1, IMAGE_SPEC_LIMITS.maxRows);
  if (o.rowMode !== 'steps' && o.rowMode !== 'buckets') {
    throw invalid(`${path}.rowMode must be "steps" or "buckets", got ${describe(o.rowMode)}.`);
  }
  const bucketMs = int(o, 'bucketMs', path, 1, Number.MAX_SAFE_INTEGER);
  const types = o.eventTypes;
  if (!Array.isArray(types) || types.length === 0 || types.length > IMAGE_SPEC_LIMITS.maxEventTypes) {
    throw invalid(`${path}.eventTypes must be a list of 1 to ${IMAGE_SPEC_LIMITS.maxEventTypes} event type names, got ${describe(types)}.`);
  }
  const seen = new Set<string>();
  types.forEach((t, i) => {
    if (typeof t !== 'string' || t.length === 0) throw invalid(`${path}.eventTypes[${i}] must be a non-empty string, got ${describe(t)}.`);
    if (t === 'other') throw invalid(`${path}.eventTypes[${i}] is "other", which is reserved for the column of unknown types; remove it from the vocabulary.`);
    if (seen.has(t)) throw invalid(`${path}.eventTypes[${i}] repeats ${describe(t)}; each type may appear once.`);
    seen.add(t);
  });
  const pageBuckets = int(o, 'pageBuckets', path, 0, IMAGE_SPEC_LIMITS.maxPageBuckets, ' Use 0 to disable page columns.');
  return {
    version: IMAGE_SPEC_VERSION,
    rows,
    rowMode: o.rowMode,
    bucketMs,
    eventTypes: [...(types as string[])],
    pageBuckets,
    dwellCapMs: positive(o, 'dwellCapMs', path),
    gapCapMs: positive(o, 'gapCapMs', path),
    valueCap: positive(o, 'valueCap', path),
    countCap: positive(o, 'countCap', path),
  };
}

/** Checks sessionization parameters and returns a clean copy. */
export function validateSessionizationSpec(value: unknown, path = 'sessionization'): SessionizationSpec {
  const o = asRecord(value, path);
  for (const k of Object.keys(o)) {
    if (!KNOWN_SESSION_KEYS.has(k)) throw invalid(`${path}.${k} is not a sessionization field; known fields: ${[...KNOWN_SESSION_KEYS].join(', ')}.`);
  }
  const gapMs = int(o, 'gapMs', path, 1, IMAGE_SPEC_LIMITS.maxSessionMs);
  const maxSessionMs = int(o, 'maxSessionMs', path, 1, IMAGE_SPEC_LIMITS.maxSessionMs);
  const allowedLatenessMs = int(o, 'allowedLatenessMs', path, 0, IMAGE_SPEC_LIMITS.maxSessionMs);
  if (maxSessionMs < gapMs) {
    throw invalid(`${path}.maxSessionMs (${maxSessionMs}) must be at least ${path}.gapMs (${gapMs}); raise maxSessionMs or lower gapMs.`);
  }
  // A user's next session must not be able to overtake the end of the previous one, otherwise
  // the split by inactivity gap would depend on arrival order.
  if (allowedLatenessMs >= gapMs) {
    throw invalid(`${path}.allowedLatenessMs (${allowedLatenessMs}) must be less than ${path}.gapMs (${gapMs}); lower the lateness or raise the gap.`);
  }
  const quietEveryMs = o.quietEveryMs === undefined ? 0 : int(o, 'quietEveryMs', path, 0, IMAGE_SPEC_LIMITS.maxSessionMs, ' Use 0 to turn quiet re-scores off.');
  if (quietEveryMs > 0 && quietEveryMs >= gapMs) {
    throw invalid(`${path}.quietEveryMs (${quietEveryMs}) must be less than ${path}.gapMs (${gapMs}): the gap closes the session first; lower it or use 0 (off).`);
  }
  return { gapMs, maxSessionMs, allowedLatenessMs, ...(quietEveryMs > 0 ? { quietEveryMs } : {}) };
}

export function validateDataSpec(value: unknown, path = 'spec'): DataSpec {
  const o = asRecord(value, path);
  for (const k of Object.keys(o)) {
    if (k !== 'image' && k !== 'sessionization') throw invalid(`${path}.${k} is not a spec field; known fields: image, sessionization.`);
  }
  return {
    image: validateImageSpec(o.image ?? defaultImageSpec, `${path}.image`),
    sessionization: validateSessionizationSpec(o.sessionization ?? defaultSessionizationSpec, `${path}.sessionization`),
  };
}

// ---- serialisation ----------------------------------------------------------------------------

// Fixed key order, so the same spec always serialises to the same bytes (bundle checksums).
function orderedImage(spec: ImageSpec): ImageSpec {
  return {
    version: spec.version,
    rows: spec.rows,
    rowMode: spec.rowMode,
    bucketMs: spec.bucketMs,
    eventTypes: [...spec.eventTypes],
    pageBuckets: spec.pageBuckets,
    dwellCapMs: spec.dwellCapMs,
    gapCapMs: spec.gapCapMs,
    valueCap: spec.valueCap,
    countCap: spec.countCap,
  };
}

function orderedSession(spec: SessionizationSpec): SessionizationSpec {
  // quietEveryMs only when set, so specs written before it existed keep their bytes
  const quiet = spec.quietEveryMs ? { quietEveryMs: spec.quietEveryMs } : {};
  return { gapMs: spec.gapMs, maxSessionMs: spec.maxSessionMs, allowedLatenessMs: spec.allowedLatenessMs, ...quiet };
}

export function serializeImageSpec(spec: ImageSpec): string {
  return `${JSON.stringify(orderedImage(validateImageSpec(spec)), null, 2)}\n`;
}

export function serializeDataSpec(spec: DataSpec): string {
  const clean = validateDataSpec(spec);
  return `${JSON.stringify({ sessionization: orderedSession(clean.sessionization), image: orderedImage(clean.image) }, null, 2)}\n`;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${source} is not valid JSON (${(err as Error).message}); fix the file or regenerate it.`, { cause: err, exitCode: 2 });
  }
}

/** Parses and validates an image spec; `source` names the file in error messages. */
export function parseImageSpec(text: string, source = 'image spec'): ImageSpec {
  return validateImageSpec(parseJson(text, source), source);
}

/** Parses and validates a spec.json; missing sections fall back to the defaults. */
export function parseDataSpec(text: string, source = 'spec.json'): DataSpec {
  return validateDataSpec(parseJson(text, source), source);
}

/** Two specs produce identical images (and so can share an encoder) iff their canonical forms match. */
export function sameImageSpec(a: ImageSpec, b: ImageSpec): boolean {
  return JSON.stringify(orderedImage(a)) === JSON.stringify(orderedImage(b));
}
