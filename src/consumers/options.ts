// The `input` options of ingestion: per-topic format, writer schemas, field mapping, limits and
// timestamp sanity. Validated once at start-up; messages name the option path and the rule.
import { z } from 'zod';
import { CLICK_EVENT_FIELDS } from '../contracts/records.ts';
import { optionPath, parseOptions } from '../options.ts';
import { EVENT_ID_FALLBACKS, INPUT_FORMATS, SESSION_KEYS, TIMESTAMP_UNITS } from './types.ts';

const DOTTED_PATH = /^[^.]+(\.[^.]+)*$/;

/** A dotted path (`event.action`) or, for keys that contain dots, the list of keys. */
const fieldPath = z.union(
  [
  z.string().regex(DOTTED_PATH, { error: 'must be a dotted path like event.action (no empty segments)' }),
  z.array(z.string().min(1, { error: 'must not contain empty keys' })).min(1, { error: 'must list at least one key' }),
  ],
  { error: 'must be a dotted path like event.action or a list of keys' },
);

/** `path` and `field` name the same thing (`field` reads better for a top-level name); one of them. */
const sourceObject = <T extends z.ZodRawShape>(extra: T) =>
  z
    .strictObject({ path: fieldPath.optional(), field: fieldPath.optional(), ...extra })
    .refine((o: { path?: unknown; field?: unknown }) => !(o.path !== undefined && o.field !== undefined), { error: 'takes path or field (the same thing), not both' });

const fieldSource = z.union([fieldPath, sourceObject({})], {
  error: 'must be a dotted path like event.action, a list of keys, or { path }',
});
const timestampSource = z.union(
  [fieldPath, sourceObject({ unit: z.enum(TIMESTAMP_UNITS).default('ms') })],
  { error: 'must be a dotted path like event.ts, or { path, unit } with unit ms, s or iso' },
);
/**
 * The event type can also translate the data's own type names into the model's vocabulary:
 * `{ "field": "type", "values": { "clicks": "product_view" } }`. A value not listed passes
 * through unchanged (and is counted as an unknown type when the model does not know it).
 */
const typeSource = z.union(
  [fieldPath, sourceObject({ values: z.record(z.string().min(1), z.string().min(1, { error: 'must not be empty' })).optional() })],
  { error: 'must be a dotted path like event.action, or { path, values } with values mapping your type names to the model\'s' },
);

/** Where each ClickEvent field is in the decoded record; a field not listed is read from its own name. */
export const mappingSchema = z.strictObject({
  eventId: fieldSource.optional(),
  sessionId: fieldSource.optional(),
  userId: fieldSource.optional(),
  timestamp: timestampSource.optional(),
  type: typeSource.optional(),
  page: fieldSource.optional(),
  durationMs: fieldSource.optional(),
  value: fieldSource.optional(),
  properties: fieldSource.optional(),
});
export type MappingOptions = z.output<typeof mappingSchema>;

/** Schema id (decimal) → path of the writer's .avsc file. */
const schemasById = z.record(z.string().regex(/^\d+$/, { error: 'is not a schema id (keys are decimal integers)' }), z.string().min(1));

/** Values of the consent field that mean "analytics consent given" (compared as lower-case text). */
export const DEFAULT_CONSENT_GRANTED = ['true', 'yes', 'granted', '1'] as const;

/**
 * The analytics-consent field: an event whose field is absent or holds another value never
 * enters a session (counted, not dead-lettered: a dead letter would copy the data of someone
 * who said no).
 */
const consentSchema = z.union(
  [
    fieldPath,
    sourceObject({
      granted: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1, { error: 'must list at least one value that means consent, e.g. [true, "granted"]' }).optional(),
    }).refine((o) => o.path !== undefined || o.field !== undefined, { error: 'needs path (the field that holds the consent), e.g. { "path": "consent.analytics" }' }),
  ],
  { error: 'must be a dotted path like consent.analytics, or { path, granted }' },
);
export type ConsentOptions = z.output<typeof consentSchema>;

const topicOptionsSchema = z.strictObject({
  format: z.enum(INPUT_FORMATS).optional(),
  writerSchema: z.string().min(1).optional(),
  schemas: schemasById.optional(),
  mapping: mappingSchema.optional(),
  consent: consentSchema.optional(),
});
export type TopicInputOptions = z.output<typeof topicOptionsSchema>;

const DAY_MS = 86_400_000;

// Declared without a contextual type (the schema's type depends on it); checked against the
// options type below as `ingestionDefaults`.
const defaults = {
  format: 'json',
  limits: {
    // Kafka's default max.message.bytes is about 1 MiB: a bigger value is a producer bug.
    maxMessageBytes: 1_048_576,
    maxProperties: 64,
    // Long enough for URLs with tracking parameters.
    maxStringLength: 4096,
  },
  timestamps: {
    maxFutureSkewMs: 5 * 60_000,
    // Catches seconds read as milliseconds (1.7e9 ms is January 1970) while allowing replays of old history.
    notBefore: Date.UTC(2000, 0, 1),
    maxAgeMs: null,
  },
  eventIdFallback: 'none',
  sessionKey: 'sessionId',
} as const;

const timestampOrIso = z.union(
  [
  z.number().int().nonnegative(),
  z.string().transform((s, ctx) => {
    const ms = Date.parse(s);
    if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `must be ms since the epoch or an ISO-8601 date, got "${s}"` });
      return z.NEVER;
    }
    return ms;
  }),
  ],
  { error: 'must be ms since the epoch or an ISO-8601 date' },
);

/** `schemaRegistry`: format confluent may leave ingestion.schemas empty (every id is looked up in the registry). */
function ingestionSchema(context: { schemaRegistry: boolean }) {
  return z
  .strictObject({
    /** Format of topics without an entry in perTopic. */
    format: z.enum(INPUT_FORMATS).default(defaults.format),
    /** Writer schema (.avsc path) for format avro. */
    writerSchema: z.string().min(1).optional(),
    /** Writer schemas by id for format confluent. */
    schemas: schemasById.optional(),
    mapping: mappingSchema.optional(),
    consent: consentSchema.optional(),
    /**
     * What a session is: `sessionId` (the mapped session id; a pause longer than the gap still
     * splits it) or `userId` (the user's events, cut by the inactivity gap: for data without a
     * session id).
     */
    sessionKey: z.enum(SESSION_KEYS).default(defaults.sessionKey),
    /** Overrides by exact topic name (format, schemas, mapping); unlisted fields fall back to the ones above. */
    perTopic: z.record(z.string().min(1), topicOptionsSchema).default({}),
    limits: z
      .strictObject({
        maxMessageBytes: z.number().int().positive().default(defaults.limits.maxMessageBytes),
        maxProperties: z.number().int().nonnegative().default(defaults.limits.maxProperties),
        maxStringLength: z.number().int().positive().default(defaults.limits.maxStringLength),
      })
      .prefault({}),
    timestamps: z
      .strictObject({
        maxFutureSkewMs: z.number().int().nonnegative().default(defaults.timestamps.maxFutureSkewMs),
        notBefore: timestampOrIso.default(defaults.timestamps.notBefore),
        maxAgeMs: z.number().int().positive().max(100 * 365 * DAY_MS).nullable().default(defaults.timestamps.maxAgeMs),
      })
      .prefault({}),
    /**
     * none: a record without eventId is dead-lettered (missing_field).
     * offset: it gets `<topic>-<partition>-<offset>`, stable across replays so dedupe still works.
     * hash: it gets a hash of the record's value bytes: the same on any copy of the data (a file
     * and the topic it was loaded into), and a producer's retry of a record is a duplicate.
     */
    eventIdFallback: z.enum(EVENT_ID_FALLBACKS).default(defaults.eventIdFallback),
  })
  .superRefine((o, ctx) => {
    const check = (where: (string | number)[], format: string, writerSchema: string | undefined, schemas: Record<string, string> | undefined): void => {
      if (format === 'avro' && writerSchema === undefined) {
        ctx.addIssue({ code: 'custom', path: [...where, 'writerSchema'], message: 'is required when the format is avro (path of the producer’s .avsc file)' });
      }
      if (format === 'confluent' && Object.keys(schemas ?? {}).length === 0 && !context.schemaRegistry) {
        ctx.addIssue({ code: 'custom', path: [...where, 'schemas'], message: 'must map at least one schema id to an .avsc file when the format is confluent, e.g. { "1": "schemas/clicks-v1.avsc" }, or set --schema-registry-url to look the ids up' });
      }
    };
    check([], o.format, o.writerSchema, o.schemas);
    for (const [topic, t] of Object.entries(o.perTopic)) {
      // Only entries that override the format or its schemas: the root's own problem is reported once, above.
      if (t.format !== undefined || t.writerSchema !== undefined || t.schemas !== undefined) {
        check(['perTopic', topic], t.format ?? o.format, t.writerSchema ?? o.writerSchema, t.schemas ?? o.schemas);
      }
    }
  });
}

export const ingestionOptionsSchema = ingestionSchema({ schemaRegistry: false });

export type IngestionOptions = z.output<typeof ingestionOptionsSchema>;
export const ingestionDefaults = defaults satisfies Partial<IngestionOptions>;
/** What a user writes (everything optional). */
export type IngestionOptionsInput = z.input<typeof ingestionOptionsSchema>;

/**
 * Validates and fills in the ingestion options. `root` is where they sit in the user's config
 * (for messages). Throws a UserError (CONFIG_INVALID, exit code 2) listing every problem.
 */
export function parseIngestionOptions(raw: unknown, root = 'ingestion', context: { schemaRegistry?: boolean } = {}): IngestionOptions {
  const schema = context.schemaRegistry ? ingestionSchema({ schemaRegistry: true }) : ingestionOptionsSchema;
  return parseOptions(schema, raw ?? {}, { name: (path) => optionPath(root, path), heading: `invalid ${root} options:`, known: { mapping: `ClickEvent fields: ${CLICK_EVENT_FIELDS.join(', ')}` } });
}
