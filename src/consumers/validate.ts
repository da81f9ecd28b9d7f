// Validation of mapped fields into a ClickEvent: required fields, types, timestamp sanity and
// size limits. Unknown event types pass (the rasterizer maps them to "other").
import { type DlqReason } from '../contracts/dead-letters.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { type CompiledMapping, type MappedFields } from './field-mapping.ts';
import { type IngestionOptions } from './options.ts';
import { type Rejection, type SessionKey } from './types.ts';

export interface ValidationRules {
  limits: IngestionOptions['limits'];
  timestamps: IngestionOptions['timestamps'];
  /** Gives field names and the timestamp unit to messages and conversion. */
  mapping: CompiledMapping;
  /** userId: the session is the user's, cut by the gap (the event's sessionId is left empty for the sessionizer). */
  sessionKey?: SessionKey;
}

export interface ValidationContext {
  /** Wall clock, ms: the reference for future skew and maximum age. */
  now: number;
  /** Used when the record has no eventId (ingestion.eventIdFallback = offset). */
  fallbackEventId?: string;
}

export type ValidationResult = { ok: true; event: ClickEvent } | Rejection;

class Invalid extends Error {
  constructor(
    readonly reason: DlqReason,
    message: string,
  ) {
    super(message);
  }
}

const MAX_DATE_MS = 8.64e15;
const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : String(ms));

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v)) return 'bytes';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

// ISO-8601 date or date-time; a date-time without a zone is read as UTC, never as local time.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function parseIso(s: string): number {
  const m = ISO_8601.exec(s.trim());
  if (m === null) return Number.NaN;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return Number.NaN;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return Number.NaN;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  const ms = Math.round(Number(`0.${frac || '0'}`) * 1000);
  return Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(sec), ms) - offsetMin * 60_000;
}

export function validate(fields: MappedFields, rules: ValidationRules, context: ValidationContext): ValidationResult {
  try {
    return { ok: true, event: toClickEvent(fields, rules, context) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}

// Module-level helpers rather than closures: this runs once per record.
function checkLength(what: string, s: string, limits: ValidationRules['limits']): string {
  if (s.length > limits.maxStringLength) {
    throw new Invalid('string_too_long', `${what} is ${s.length} characters long; the limit is ${limits.maxStringLength} (ingestion.limits.maxStringLength).`);
  }
  return s;
}

const absence = (v: unknown): string => (v === '' ? 'empty' : v === null ? 'null' : 'missing');

/** Ids: strings, or integers as decimal strings (numeric ids are common, e.g. KDD Cup's enrollment_id). */
function toId(field: 'eventId' | 'sessionId' | 'userId', v: unknown, required: boolean, rules: ValidationRules, why = 'every event needs one'): string | null {
  if (v === undefined || v === null || v === '') {
    if (!required) return null;
    throw new Invalid('missing_field', `${rules.mapping.labels[field]} is ${absence(v)}; ${why}.`);
  }
  if (typeof v === 'string') return checkLength(rules.mapping.labels[field], v, rules.limits);
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint') return String(v);
  const hint = typeof v === 'number' && Number.isInteger(v) ? ' (integers beyond 2^53 lose digits in JSON: send ids as strings)' : '';
  throw new Invalid('wrong_type', `${rules.mapping.labels[field]} must be a string or an integer, got ${describeType(v)}${hint}.`);
}

function toOptionalNumber(field: 'durationMs' | 'value', v: unknown, rules: ValidationRules): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') throw new Invalid('invalid_value', `${rules.mapping.labels[field]} ${v} is beyond 2^53.`);
  if (typeof v !== 'number') throw new Invalid('wrong_type', `${rules.mapping.labels[field]} must be a number or null, got ${describeType(v)}.`);
  if (!Number.isFinite(v)) throw new Invalid('invalid_value', `${rules.mapping.labels[field]} must be a finite number, got ${v}.`);
  return v;
}

function toClickEvent(f: MappedFields, rules: ValidationRules, context: ValidationContext): ClickEvent {
  const { labels } = rules.mapping;
  const eventId = toId('eventId', f.eventId, context.fallbackEventId === undefined, rules, 'every event needs one (or set ingestion.eventIdFallback to hash or offset)') ?? context.fallbackEventId!;
  const byUser = rules.sessionKey === 'userId';
  // Keyed by user, the sessionizer cuts the user's events by the gap; an empty sessionId says so.
  const sessionId = byUser ? '' : toId('sessionId', f.sessionId, true, rules)!;
  const userId = toId('userId', f.userId, byUser, rules, 'ingestion.sessionKey is userId, so every event needs one');
  const timestamp = toTimestamp(f.timestamp, rules, context.now, labels.timestamp);

  if (f.type === undefined || f.type === null || f.type === '') {
    throw new Invalid('missing_field', `${labels.type} is ${absence(f.type)}; every event needs an event type.`);
  }
  // Type codes (1, 2, 3) are names too: integers become decimal strings, as ids do.
  let rawType: string;
  if (typeof f.type === 'string') rawType = f.type;
  else if (typeof f.type === 'number' && Number.isSafeInteger(f.type)) rawType = String(f.type);
  else throw new Invalid('wrong_type', `${labels.type} must be a string or an integer, got ${describeType(f.type)}.`);
  const type = checkLength(labels.type, rules.mapping.typeValues?.get(rawType) ?? rawType, rules.limits);

  // A page can be a product or screen id: integers become decimal strings, as ids do.
  let page: string | null = null;
  if (f.page !== undefined && f.page !== null) {
    if (typeof f.page === 'string') page = checkLength(labels.page, f.page, rules.limits);
    else if ((typeof f.page === 'number' && Number.isSafeInteger(f.page)) || typeof f.page === 'bigint') page = String(f.page);
    else throw new Invalid('wrong_type', `${labels.page} must be a string, an integer or null, got ${describeType(f.page)}.`);
  }

  let durationMs = toOptionalNumber('durationMs', f.durationMs, rules);
  if (durationMs !== null) {
    if (durationMs < 0) throw new Invalid('invalid_value', `${labels.durationMs} must not be negative, got ${durationMs}.`);
    // The schema says long: a fractional duration from JSON is rounded, not rejected; one beyond
    // 2^53 (1e308, 9007199254740993) has no exact long (found by the ingestion fuzz).
    durationMs = Math.round(durationMs);
    if (!Number.isSafeInteger(durationMs)) throw new Invalid('invalid_value', `${labels.durationMs} ${durationMs} is beyond 2^53 ms.`);
  }
  const value = toOptionalNumber('value', f.value, rules);
  const properties = toProperties(f.properties, rules.limits, labels.properties);

  return { eventId, sessionId, userId, timestamp, type, page, durationMs, value, properties };
}

function toTimestamp(v: unknown, rules: ValidationRules, now: number, field: string): number {
  const unit = rules.mapping.timestampUnit;
  if (v === undefined || v === null) throw new Invalid('missing_field', `${field} is ${v === null ? 'null' : 'missing'}; every event needs its event time.`);
  let ms: number;
  if (unit === 'iso') {
    if (typeof v !== 'string') throw new Invalid('wrong_type', `${field} must be an ISO-8601 string (ingestion.mapping.timestamp.unit is iso), got ${describeType(v)}.`);
    ms = parseIso(v);
    if (Number.isNaN(ms)) throw new Invalid('invalid_value', `${field} "${v.slice(0, 64)}" is not an ISO-8601 date-time such as 2026-11-22T13:45:00Z.`);
  } else {
    if (typeof v === 'bigint') throw new Invalid('invalid_value', `${field} ${v} is not a representable date.`);
    if (typeof v !== 'number') {
      const hint = typeof v === 'string' && !Number.isNaN(parseIso(v)) ? ' (it looks like ISO-8601: set ingestion.mapping.timestamp.unit to iso)' : '';
      throw new Invalid('wrong_type', `${field} must be a number (${unit === 's' ? 'seconds' : 'ms'} since the epoch), got ${describeType(v)}${hint}.`);
    }
    if (!Number.isFinite(v)) throw new Invalid('invalid_value', `${field} must be a finite number, got ${v}.`);
    ms = Math.round(unit === 's' ? v * 1000 : v);
  }
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_DATE_MS) throw new Invalid('invalid_value', `${field} ${String(v)} is not a representable date.`);

  const { maxFutureSkewMs, notBefore, maxAgeMs } = rules.timestamps;
  if (ms > now + maxFutureSkewMs) {
    throw new Invalid(
      'timestamp_future',
      `${field} ${iso(ms)} is more than ${maxFutureSkewMs} ms (ingestion.timestamps.maxFutureSkewMs) ahead of the clock (${iso(now)}).`,
    );
  }
  if (ms < notBefore) {
    const seconds = unit === 'ms' && ms > 0 && ms * 1000 >= notBefore && ms * 1000 <= now + maxFutureSkewMs;
    const hint = seconds ? ' It looks like seconds: set ingestion.mapping.timestamp.unit to s.' : '';
    throw new Invalid('timestamp_too_old', `${field} ${iso(ms)} is before ingestion.timestamps.notBefore (${iso(notBefore)}).${hint}`);
  }
  if (maxAgeMs !== null && ms < now - maxAgeMs) {
    throw new Invalid('timestamp_too_old', `${field} ${iso(ms)} is older than ingestion.timestamps.maxAgeMs (${maxAgeMs} ms) at ${iso(now)}.`);
  }
  return ms;
}

function toProperties(v: unknown, limits: ValidationRules['limits'], field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw new Invalid('wrong_type', `${field} must be an object of string values, got ${describeType(v)}.`);
  }
  const source = v as Record<string, unknown>;
  const out: Record<string, string> = {};
  let count = 0;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    if (++count > limits.maxProperties) {
      throw new Invalid('too_many_properties', `${field} has ${Object.keys(source).length} entries; the limit is ${limits.maxProperties} (ingestion.limits.maxProperties).`);
    }
    if (key.length > limits.maxStringLength) checkLength(`${field} key "${key.slice(0, 32)}…"`, key, limits);
    const raw = source[key];
    let value: string;
    // Scalars become strings (the schema's map<string>); nested structures have no place in it.
    if (typeof raw === 'string') value = raw.length > limits.maxStringLength ? checkLength(`${field}.${key}`, raw, limits) : raw;
    else if (typeof raw === 'number' || typeof raw === 'boolean') value = String(raw);
    else if (raw === null || raw === undefined) continue;
    else throw new Invalid('wrong_type', `${field}.${key} must be a string, number or boolean, got ${describeType(raw)}.`);
    // Assigning "__proto__" would replace the prototype; define it as an ordinary key instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
