// The one call the consumer makes per record: bytes in, a ClickEvent, a tombstone or a dead
// letter out. Never throws; configuration is compiled once (schemas loaded, resolvers built).
import { type KafkaMessage } from 'kafkajs';
import { type IngestRecord } from '../contracts/ingest-record.ts';
import { type AvroReader, type Decoder, avroDecoder, confluentDecoder, createAvroReader, jsonDecoder, loadWriterSchema } from './decode.ts';
import { type CompiledMapping, type MappedFields, applyMapping, compileMapping } from './field-mapping.ts';
import { type IngestionOptions, type TopicInputOptions } from './options.ts';
import { type IngestResult, type InputFormat } from './types.ts';
import { type ValidationRules, validate } from './validate.ts';

export interface TopicIngestion {
  readonly format: InputFormat;
  readonly decoder: Decoder;
  readonly rules: ValidationRules;
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
  /** Where the options sit in the user's config, for messages. Default "input". */
  root?: string;
}

/**
 * Loads every writer schema and builds every resolver the options name, so that a bad schema
 * stops the start-up with a message naming the option instead of dead-lettering a whole topic.
 */
export function compileIngestion(options: IngestionOptions, env: CompileEnvironment = {}): Ingestion {
  const baseDir = env.baseDir ?? process.cwd();
  const root = env.root ?? 'input';
  // Parsed schema files are shared between topics that name the same file.
  const schemaCache = new Map<string, ReturnType<typeof loadWriterSchema>>();
  const load = (file: string, option: string): ReturnType<typeof loadWriterSchema> => {
    let loaded = schemaCache.get(file);
    if (loaded === undefined) schemaCache.set(file, (loaded = loadWriterSchema(file, option, baseDir)));
    return loaded;
  };

  const compileTopic = (t: TopicInputOptions, where: string): TopicIngestion => {
    const format = t.format ?? options.format;
    const mapping: CompiledMapping = compileMapping(t.mapping ?? options.mapping);
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
      decoder = confluentDecoder(readers);
    }
    return { format, decoder, rules: { limits: options.limits, timestamps: options.timestamps, mapping } };
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
    return { kind: 'dead', reason: 'too_large', message: `value is ${value.length} bytes; the limit is ${maxMessageBytes} (input.limits.maxMessageBytes).` };
  }
  const decoded = topic.decoder.decode(value);
  if (!decoded.ok) return { kind: 'dead', reason: decoded.reason, message: decoded.message };
  // With the identity mapping the decoded object already has the ClickEvent field names, and
  // none of them exists on Object.prototype: validation can read it as it is.
  const { mapping } = topic.rules;
  const fields = mapping.identity ? (decoded.value as MappedFields) : applyMapping(decoded.value, mapping, record.key);
  const fallbackEventId = ingestion.options.eventIdFallback === 'offset' ? `${record.topic}-${record.partition}-${record.offset}` : undefined;
  const result = validate(fields, topic.rules, { now: ingestion.now(), fallbackEventId });
  if (!result.ok) return { kind: 'dead', reason: result.reason, message: result.message };
  return { kind: 'event', event: result.event };
}
