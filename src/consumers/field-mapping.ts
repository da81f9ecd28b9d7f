// Field mapping: where each ClickEvent field is found in a decoded record, for clickstreams that
// use other names or nesting. Applied before validation; the default is the identity.
import { type ClickEvent, CLICK_EVENT_FIELDS } from '../contracts/records.ts';
import { type ConsentOptions, DEFAULT_CONSENT_GRANTED, type MappingOptions } from './options.ts';
import { type TimestampUnit } from './types.ts';

type FieldName = keyof ClickEvent;

/** The source `$key` reads the Kafka record key (UTF-8), for streams keyed by session id that leave it out of the value. */
export const RECORD_KEY_SOURCE = '$key';

export interface CompiledMapping {
  /** Key path per ClickEvent field. */
  readonly paths: Readonly<Record<FieldName, readonly string[]>>;
  /** Per field, how messages name it: "sessionId", or "session (mapped to sessionId)". */
  readonly labels: Readonly<Record<FieldName, string>>;
  readonly timestampUnit: TimestampUnit;
  /** True when every field is read from its own name, in ms: Avro can then be resolved against click-event.avsc. */
  readonly identity: boolean;
  /** The data's type names → the model's (mapping.type.values); unlisted names pass through. */
  readonly typeValues?: ReadonlyMap<string, string>;
}

/** The ClickEvent fields, each possibly undefined (absent in the record); validation decides. */
export type MappedFields = Record<FieldName, unknown>;

const toSegments = (p: string | string[]): string[] => (typeof p === 'string' ? p.split('.') : [...p]);

/** Turns validated mapping options (see options.ts) into key paths, once per topic. */
export function compileMapping(options: MappingOptions | undefined): CompiledMapping {
  const paths = {} as Record<FieldName, readonly string[]>;
  const labels = {} as Record<FieldName, string>;
  let identity = true;
  let timestampUnit: TimestampUnit = 'ms';
  let typeValues: Map<string, string> | undefined;
  for (const field of CLICK_EVENT_FIELDS) {
    const source = options?.[field];
    let path: string[] = [field];
    if (typeof source === 'string' || Array.isArray(source)) {
      path = toSegments(source);
    } else if (source !== undefined) {
      const where = source.path ?? source.field;
      if (where !== undefined) path = toSegments(where);
      if ('unit' in source) timestampUnit = source.unit;
      if ('values' in source && source.values !== undefined) typeValues = new Map(Object.entries(source.values));
    }
    if (path.length !== 1 || path[0] !== field) identity = false;
    paths[field] = path;
    labels[field] =
      path.length === 1 && path[0] === field
        ? field
        : isKeySource(path)
          ? `the record key (mapped to ${field})`
          : `${path.join('.')} (mapped to ${field})`;
  }
  return { paths, labels, timestampUnit, identity: identity && timestampUnit === 'ms', ...(typeValues !== undefined ? { typeValues } : {}) };
}

export const identityMapping: CompiledMapping = compileMapping(undefined);

const isKeySource = (path: readonly string[]): boolean => path.length === 1 && path[0] === RECORD_KEY_SOURCE;

/**
 * Reads the value at a key path. Only own properties are followed (a record can never reach
 * `constructor` or `__proto__`); arrays take numeric keys.
 */
export function readPath(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    if (current === null || typeof current !== 'object' || Buffer.isBuffer(current)) return undefined;
    const key = path[i]!;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Picks the ClickEvent fields out of a decoded record (and its Kafka key, for `$key`). */
export function applyMapping(record: object, mapping: CompiledMapping, key: Buffer | null = null): MappedFields {
  const out = {} as MappedFields;
  for (const field of CLICK_EVENT_FIELDS) {
    const path = mapping.paths[field];
    if (path.length === 1) {
      const name = path[0]!;
      // Top-level fields (the common case) skip the general walk.
      if (name === RECORD_KEY_SOURCE) out[field] = key === null ? undefined : key.toString('utf8');
      else out[field] = Object.hasOwn(record, name) ? (record as Record<string, unknown>)[name] : undefined;
    } else {
      out[field] = readPath(record, path);
    }
  }
  return out;
}

/** "session (from ingestion.mapping.sessionId)" or just "sessionId": names the field the user can find in their data. */
export function describeSource(field: FieldName, mapping: CompiledMapping): string {
  return mapping.labels[field];
}

/** A compiled consent rule: where the field is, and which values grant consent (lower-case text). */
export interface CompiledConsent {
  readonly path: readonly string[];
  readonly granted: ReadonlySet<string>;
}

export function compileConsent(options: ConsentOptions | undefined): CompiledConsent | undefined {
  if (options === undefined) return undefined;
  const where = typeof options === 'string' || Array.isArray(options) ? options : (options.path ?? options.field)!;
  const granted = typeof options === 'object' && !Array.isArray(options) && options.granted !== undefined ? options.granted : DEFAULT_CONSENT_GRANTED;
  return { path: toSegments(where), granted: new Set(granted.map((v) => String(v).toLowerCase())) };
}

/** True when the record grants analytics consent; an absent field, or any other value, does not. */
export function hasConsent(record: object, consent: CompiledConsent): boolean {
  const v = readPath(record, consent.path);
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
  return consent.granted.has(String(v).toLowerCase());
}
