// The one call the consumer makes per record: bytes in, a ClickEvent, a tombstone or a dead
// letter out. Never throws; configuration is compiled once (schemas loaded, resolvers built).
import { createHash } from 'node:crypto';
import { type KafkaMessage } from 'kafkajs';
import { type IngestRecord } from '../contracts/ingest-record.ts';
import { type AvroReader, type Decoder, type RegistryReaders, avroDecoder, confluentDecoder, createAvroReader, jsonDecoder, loadWriterSchema } from './decode.ts';
import { type CompiledConsent, type CompiledMapping, type MappedFields, applyMapping, compileConsent, compileMapping, hasConsent } from './field-mapping.ts';
import { type IngestionOptions, type TopicInputOptions } from './options.ts';
import { type RegistryReadersOptions, registryReaders } from './registry.ts';
import { type SchemaRegistryClient } from '../schema-registry/client.ts';
import { type IngestResult, type InputFormat } from './types.ts';
import { type ValidationRules, validate } from './validate.ts';

export interface TopicIngestion {
  readonly format: InputFormat;
  readonly decoder: Decoder;
  readonly rules: ValidationRules;
  /** ingestion.consent: events that do not grant it never reach a session. */
  readonly consent?: CompiledConsent;
}

export interface Ingestion {
  readonly options: IngestionOptions;
  /** The compiled settings of a topic: its perTopic entry, or the defaults (e.g. for regex subscriptions). */
  forTopic(topic: string): TopicIngestion;
  /** Wall clock for timestamp sanity; injectable for tests. */
  readonly now: () => number;
}

export interface CompileEnvironment {
  /** Relative writer-schema paths are resolved from here (the config file's folder). Default: the working directory. */
  baseDir?: string;
  now?: () => number;
  /** Where the options sit in the user's config, for messages. Default "ingestion". */
  root?: string;
  /** Format confluent: ids input.schemas does not list are looked up in this registry. */
  schemaRegistry?: { client: SchemaRegistryClient } & Pick<RegistryReadersOptions, 'metrics'>;
}

/**
 * Loads every writer schema and builds every resolver the options name, so that a bad schema
 * stops the start-up with a message naming the option instead of dead-lettering a whole topic.
 */
export function compileIngestion(options: IngestionOptions, env: CompileEnvironment = {}): Ingestion {
  const baseDir = env.baseDir ?? process.cwd();
  const root = env.root ?? 'ingestion';
  // One cache of registry readers per way of reading (resolved as ClickEvent, or as written).
  const fromRegistry = new Map<boolean, RegistryReaders>();
  const registryFor = (identityMapping: boolean): RegistryReaders | undefined => {
    const r = env.schemaRegistry;
    if (r === undefined) return undefined;
    let readers = fromRegistry.get(identityMapping);
    if (readers === undefined) fromRegistry.set(identityMapping, (readers = registryReaders(r.client, { identityMapping, ...(r.metrics ? { metrics: r.metrics } : {}), ...(env.now ? { now: env.now } : {}) })));
    return readers;
  };
  // Parsed schema files are shared between topics that name the same file.
  const schemaCache = new Map<string, ReturnType<typeof loadWriterSchema>>();
  const load = (file: string, option: string): ReturnType<typeof loadWriterSchema> => {
    let loaded = schemaCache.get(file);
    if (loaded === undefined) schemaCache.set(file, (loaded = loadWriterSchema(file, option, baseDir)));
    return loaded;
  };

  const compileTopic = (t: TopicInputOptions, where: string): TopicIngestion => {
    const format = t.format ?? options.format;
    const consent = compileConsent(t.consent ?? options.consent);
    const base = compileMapping(t.mapping ?? options.mapping);
    // Avro resolved against click-event.avsc would drop the consent field: read it as written.
    const mapping: CompiledMapping = consent !== undefined && base.identity ? { ...base, identity: false } : base;
    const readerFor = (file: string, option: string): AvroReader => {
      const { type, path } = load(file, option);
      return createAvroReader(type, { identityMapping: mapping.identity, source: path, option });
    };
    let decoder: Decoder;
    if (format === 'json') {
      decoder = jsonDecoder;
    } else if (format === 'avro') {
      const option = t.writerSchema !== undefined ? `${where}.writerSchema` : `${root}.writerSchema`;
      decoder = avroDecoder(readerFor((t.writerSchema ?? options.writerSchema)!, option));
    } else {
      const schemas = t.schemas ?? options.schemas ?? {};
      const base = t.schemas !== undefined ? `${where}.schemas` : `${root}.schemas`;
      const readers = new Map<number, AvroReader>();
      for (const [id, file] of Object.entries(schemas)) readers.set(Number(id), readerFor(file, `${base}.${id}`));
      decoder = confluentDecoder(readers, registryFor(mapping.identity));
    }
    return { format, decoder, rules: { limits: options.limits, timestamps: options.timestamps, mapping, sessionKey: options.sessionKey }, ...(consent !== undefined ? { consent } : {}) };
  };

  const fallback = compileTopic({}, root);
  const topics = new Map<string, TopicIngestion>();
  for (const [topic, t] of Object.entries(options.perTopic)) topics.set(topic, compileTopic(t, `${root}.perTopic.${topic}`));

  return {
    options,
    forTopic: (topic) => topics.get(topic) ?? fallback,
    now: env.now ?? Date.now,
  };
}

/** The IngestRecord of a kafkajs message (eachBatch gives topic and partition per batch). */
export function toIngestRecord(topic: string, partition: number, message: KafkaMessage): IngestRecord {
  return { topic, partition, offset: BigInt(message.offset), key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp };
}

/** The id of an event that has none (ingestion.eventIdFallback), or undefined (it is then dead-lettered). */
export function fallbackEventId(record: IngestRecord, fallback: IngestionOptions['eventIdFallback']): string | undefined {
  if (fallback === 'offset') return `${record.topic}-${record.partition}-${record.offset}`;
  // 16 bytes of SHA-256: no collision among any plausible number of events.
  if (fallback === 'hash' && record.value !== null) return createHash('sha256').update(record.value).digest('base64url').slice(0, 22);
  return undefined;
}

/** Decode → map → validate one record. Every record yields exactly one result; nothing throws. */
export function ingest(record: IngestRecord, ingestion: Ingestion): IngestResult {
  try {
    return ingestUnsafe(record, ingestion);
  } catch (err) {
    // A bug must not stop the partition or lose the record: dead-letter it with the cause.
    return { kind: 'dead', reason: 'internal_error', message: `unexpected error while ingesting: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function ingestUnsafe(record: IngestRecord, ingestion: Ingestion): IngestResult {
  const { value } = record;
  if (value === null) return { kind: 'tombstone' };
  if (value.length === 0) return { kind: 'dead', reason: 'empty_value', message: 'value is empty (0 bytes); a delete would be a null value (tombstone).' };
  const topic = ingestion.forTopic(record.topic);
  const { maxMessageBytes } = topic.rules.limits;
  if (value.length > maxMessageBytes) {
    return { kind: 'dead', reason: 'too_large', message: `value is ${value.length} bytes; the limit is ${maxMessageBytes} (ingestion.limits.maxMessageBytes).` };
  }
  const decoded = topic.decoder.decode(value);
  if (!decoded.ok) return { kind: 'dead', reason: decoded.reason, message: decoded.message };
  return ingestDecoded(decoded.value, record, ingestion, topic);
}

/**
 * The steps after decoding (consent, mapping, validation), for records already decoded, e.g.
 * the records of an Avro container file, which carries its writer schema itself.
 */
export function ingestDecoded(value: object, record: IngestRecord, ingestion: Ingestion, topic: TopicIngestion = ingestion.forTopic(record.topic)): IngestResult {
  // Before validation: a record without consent must not be copied to the dead-letter topic either.
  if (topic.consent !== undefined && !hasConsent(value, topic.consent)) return { kind: 'no_consent' };
  // With the identity mapping the decoded object already has the ClickEvent field names, and
  // none of them exists on Object.prototype: validation can read it as it is.
  const { mapping } = topic.rules;
  const fields = mapping.identity ? (value as MappedFields) : applyMapping(value, mapping, record.key);
  const fallback = fallbackEventId(record, ingestion.options.eventIdFallback);
  const result = validate(fields, topic.rules, { now: ingestion.now(), ...(fallback !== undefined ? { fallbackEventId: fallback } : {}) });
  if (!result.ok) return { kind: 'dead', reason: result.reason, message: result.message };
  return { kind: 'event', event: result.event };
}
