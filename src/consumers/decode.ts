// Decoding of record values per input format: JSON, raw Avro with a configured writer schema,
// and the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body) with
// writer schemas configured by id or fetched by id from a schema registry (consumers/registry.ts).
// Decoders never throw on bad bytes: they return a Rejection.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
// avsc is CommonJS: Node's ESM loader only offers its default export.
import avsc, { type Type } from 'avsc';
import { ErrorCodes, JourneylensError, UserError } from '../errors.ts';
import { type AvroResolver, type AvroSchema, clickEventType, contractSchema } from '../contracts/schemas.ts';
import { CONFLUENT_HEADER_BYTES } from '../schema-registry/wire-format.ts';
import { checkAvroBody } from './avro-guard.ts';
import { type Rejection } from './types.ts';

export { CONFLUENT_HEADER_BYTES, confluentFrame } from '../schema-registry/wire-format.ts';

export type Decoded = { ok: true; value: object } | Rejection;

export interface Decoder {
  decode(value: Buffer): Decoded;
  /**
   * Fetches what decode() will need for these values (writer schemas from the schema registry),
   * so that decode() stays synchronous. Rejects while the registry cannot be asked; absent when
   * the decoder needs nothing.
   */
  prepare?(values: readonly (Buffer | null)[]): Promise<void>;
}

/** Writer schemas by id from a schema registry, for the ids the configuration does not list. */
export interface RegistryReaders {
  /** The reader (or the verdict) for `id`; undefined when it was not fetched (prepare() first). */
  get(id: number): AvroReader | Rejection | undefined;
  /** Fetches the ids not known yet; rejects with SchemaRegistryUnavailableError/AuthError while the registry cannot answer. */
  fetch(ids: Iterable<number>): Promise<void>;
}

const reject = (reason: Rejection['reason'], message: string): Rejection => ({ ok: false, reason, message });

const isObject = (v: unknown): v is object => v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

// fatal: invalid UTF-8 is a producer bug, not text to patch with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export const jsonDecoder: Decoder = {
  decode(value) {
    let text: string;
    try {
      text = utf8.decode(value);
    } catch {
      return reject('not_json', 'value is not valid UTF-8, so it cannot be JSON.');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return reject('not_json', `value is not JSON: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) return reject('not_object', `value is JSON ${describe(parsed)}, not an object.`);
    return { ok: true, value: parsed };
  },
};

/**
 * How one writer schema is read. With the identity mapping the body is resolved against
 * click-event.avsc (so an older writer without the newer, defaulted fields reads fine); with a
 * field mapping it is read as written and the mapping picks the fields.
 */
export interface AvroReader {
  writer: Type;
  reader: Type;
  resolver: AvroResolver | undefined;
  /** For messages: the file the writer schema came from. */
  source: string;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// avsc refuses longs beyond 2^53 ("potential precision loss"): a topic whose ids are 64-bit
// (snowflake ids) would be dead-lettered whole. This long reads such values as BigInt, and
// every other long as a plain number; validation turns BigInt ids into decimal strings.
const wideLong = (avsc.types.LongType as unknown as { __with(methods: object): Type }).__with({
  fromBuffer: (buf: Buffer): number | bigint => {
    const n = buf.readBigInt64LE();
    return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
  },
  toBuffer: (n: number | bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown): unknown => v,
  toJSON: (n: number | bigint): number | string => (typeof n === 'bigint' ? n.toString() : n),
  isValid: (n: unknown): boolean => typeof n === 'bigint' || Number.isSafeInteger(n),
  compare: (a: number | bigint, b: number | bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});

/** Parses an Avro schema the way ingestion reads it: longs beyond 2^53 as BigInt, not an error. */
export function parseIngestSchema(schema: unknown): Type {
  // A fresh registry each time: avsc adds the schema's named types to it.
  return avsc.Type.forSchema(schema as AvroSchema, { registry: { long: wideLong } });
}

/** Reads and parses a writer schema file; `option` is the config path it came from, for messages. */
export function loadWriterSchema(file: string, option: string, baseDir: string): { type: Type; path: string } {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${option}: cannot read writer schema ${path}: ${(err as Error).message}`, { exitCode: 2, cause: err });
  }
  try {
    return { type: parseIngestSchema(JSON.parse(text)), path };
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${option}: ${path} is not a valid Avro schema: ${(err as Error).message}`, { exitCode: 2, cause: err });
  }
}

/** Builds the reader for a writer type; throws a UserError naming `option` when it cannot be read as a ClickEvent. */
export function createAvroReader(writer: Type, options: { identityMapping: boolean; source: string; option: string }): AvroReader {
  if (!options.identityMapping) return { writer, reader: writer, resolver: undefined, source: options.source };
  // Avro resolves records by name: a producer's com.acme.Click is read as journeylens.ClickEvent through an alias.
  const alias = writer.typeName === 'record' && writer.name !== undefined && writer.name !== clickEventType().name ? { aliases: [writer.name] } : {};
  const reader = parseIngestSchema({ ...contractSchema('clickEvent'), ...alias });
  try {
    return { writer, reader, resolver: reader.createResolver(writer), source: options.source };
  } catch (err) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `${options.option}: writer schema ${options.source} cannot be read as journeylens.ClickEvent (${(err as Error).message}). ` +
        'Rename its fields to match schemas/click-event.avsc, give the missing ones defaults, or set ingestion.mapping to read it as written.',
      { exitCode: 2, cause: err },
    );
  }
}

function decodeAvroBody(reader: AvroReader, value: Buffer, start: number): Decoded {
  const problem = checkAvroBody(reader.writer, value, start);
  if (problem !== undefined) return reject('avro_decode_error', `Avro body does not match writer schema ${reader.source}: ${problem}.`);
  let decoded: unknown;
  try {
    const body = start === 0 ? value : value.subarray(start);
    decoded = reader.resolver === undefined ? reader.writer.fromBuffer(body) : reader.reader.fromBuffer(body, reader.resolver);
  } catch (err) {
    return reject('avro_decode_error', `Avro body does not match writer schema ${reader.source}: ${(err as Error).message}.`);
  }
  if (!isObject(decoded)) return reject('not_object', `Avro value is ${describe(decoded)}, not a record (writer schema ${reader.source}).`);
  return { ok: true, value: decoded };
}

export function avroDecoder(reader: AvroReader): Decoder {
  return { decode: (value) => decodeAvroBody(reader, value, 0) };
}

export function confluentDecoder(readers: ReadonlyMap<number, AvroReader>, registry?: RegistryReaders): Decoder {
  const known = [...readers.keys()].sort((a, b) => a - b).join(', ');
  const readerOf = (id: number): AvroReader | Rejection => {
    const configured = readers.get(id);
    if (configured !== undefined) return configured;
    if (registry === undefined) return reject('unknown_schema_id', `schema id ${id} has no writer schema in ingestion.schemas (configured ids: ${known}).`);
    const fetched = registry.get(id);
    // prepare() was skipped: a journeylens bug, which ingest() dead-letters as internal_error, never as the record's fault.
    if (fetched === undefined) throw new JourneylensError(ErrorCodes.INTERNAL, `schema id ${id} was not fetched from the schema registry before decoding`);
    return fetched;
  };
  return {
    decode(value) {
      if (value[0] !== 0) {
        return reject('bad_magic_byte', `first byte is ${value[0]}, not the Confluent wire-format magic byte 0 (is the topic's format really confluent?).`);
      }
      if (value.length < CONFLUENT_HEADER_BYTES) {
        return reject('avro_decode_error', `value has ${value.length} bytes, fewer than the ${CONFLUENT_HEADER_BYTES}-byte Confluent header.`);
      }
      const reader = readerOf(value.readUInt32BE(1));
      if ('ok' in reader) return reader;
      return decodeAvroBody(reader, value, CONFLUENT_HEADER_BYTES);
    },
    ...(registry === undefined
      ? {}
      : {
          prepare(values: readonly (Buffer | null)[]): Promise<void> {
            const ids = new Set<number>();
            for (const v of values) {
              if (v === null || v.length < CONFLUENT_HEADER_BYTES || v[0] !== 0) continue;
              const id = v.readUInt32BE(1);
              if (!readers.has(id) && registry.get(id) === undefined) ids.add(id);
            }
            return ids.size === 0 ? Promise.resolve() : registry.fetch(ids);
          },
        }),
  };
}
