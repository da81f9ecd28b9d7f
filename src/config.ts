// One config schema for flags, env and file. Each option is declared once in `runOptions`:
// its flag, its env variable, its description and its kind, from which its zod schema is built
// (validated the way every option is: src/options.ts). Precedence: flag > env >
// config file (JOURNEYLENS_CONFIG / --config) > default. Every wrong value produces one message
// naming the option (flag and env) and the fix.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { ErrorCodes, UserError } from './errors.ts';
import { parseRiskSetting, RISK_SETTING_DEFAULT, RISK_SETTING_HELP } from './contracts/risk.ts';
import { parseOptions } from './options.ts';
import { standardWebhookKey } from './sinks/webhook-signature.ts';

type Parsed = string | number | boolean | string[];

export interface OptionSpec<K extends string = string> {
  key: K;
  flag: string;
  env: string;
  description: string;
  kind: 'string' | 'list' | 'int' | 'number' | 'boolean' | 'enum';
  choices?: readonly string[];
  min?: number;
  max?: number;
  required?: boolean;
  secret?: boolean;
  default?: Parsed;
}

export const runOptions = [
  { key: 'brokers', flag: '--brokers <list>', env: 'JOURNEYLENS_BROKERS', kind: 'list', required: true, description: 'Kafka bootstrap servers, comma-separated host:port' },
  { key: 'input', flag: '--input <topics>', env: 'JOURNEYLENS_INPUT', kind: 'list', required: true, description: 'input clickstream topics, comma-separated; /regex/ subscribes to every matching topic' },
  { key: 'signalsTopic', flag: '--signals-topic <topic>', env: 'JOURNEYLENS_SIGNALS_TOPIC', kind: 'string', default: 'journey.signals', description: 'topic for JourneySignal records' },
  { key: 'dlqTopic', flag: '--dlq-topic <topic>', env: 'JOURNEYLENS_DLQ_TOPIC', kind: 'string', description: 'dead-letter topic for records that cannot be used (original bytes + error headers); without it they are logged and counted' },
  { key: 'lateTopic', flag: '--late-topic <topic>', env: 'JOURNEYLENS_LATE_TOPIC', kind: 'string', description: 'topic for events of already-closed sessions (default: the DLQ topic)' },
  { key: 'alertsTopic', flag: '--alerts-topic <topic>', env: 'JOURNEYLENS_ALERTS_TOPIC', kind: 'string', description: 'topic for ChurnAlert records (alerts are off without it)' },
  { key: 'parkedTopic', flag: '--parked-topic <topic>', env: 'JOURNEYLENS_PARKED_TOPIC', kind: 'string', description: 'topic for alerts the webhook could not deliver (default: <alerts-topic>.parked)' },
  { key: 'alertStateRetentionHours', flag: '--alert-state-retention-hours <h>', env: 'JOURNEYLENS_ALERT_STATE_RETENTION_HOURS', kind: 'int', min: 1, max: 87_600, default: 168, description: "alert state (the compacted <alerts-topic>.state topic) written longer ago than this is dropped when read and deleted by the broker: state a crash orphaned does not stay; keep it longer than your longest session (docs/reliability.md)" },
  { key: 'webhookUrl', flag: '--webhook-url <url>', env: 'JOURNEYLENS_WEBHOOK_URL', kind: 'string', description: 'CRM webhook: POST every alert here as signed JSON (docs/webhook.md)' },
  { key: 'webhookSecret', flag: '--webhook-secret <secret>', env: 'JOURNEYLENS_WEBHOOK_SECRET', kind: 'string', secret: true, description: 'webhook signing secret, whsec_<base64> as Standard Webhooks defines it (or JOURNEYLENS_WEBHOOK_SECRET_FILE)' },
  { key: 'webhookTimeoutMs', flag: '--webhook-timeout-ms <ms>', env: 'JOURNEYLENS_WEBHOOK_TIMEOUT_MS', kind: 'int', min: 100, max: 300_000, default: 10_000, description: 'give up on a webhook request after this long (then retry)' },
  { key: 'webhookMaxAttempts', flag: '--webhook-max-attempts <n>', env: 'JOURNEYLENS_WEBHOOK_MAX_ATTEMPTS', kind: 'int', min: 1, max: 100, default: 8, description: 'attempts per alert before it is parked on --parked-topic' },
  { key: 'webhookConcurrency', flag: '--webhook-concurrency <n>', env: 'JOURNEYLENS_WEBHOOK_CONCURRENCY', kind: 'int', min: 1, max: 256, default: 8, description: 'webhook requests in flight at once (alerts of one session stay in order)' },
  { key: 'outputFormat', flag: '--output-format <format>', env: 'JOURNEYLENS_OUTPUT_FORMAT', kind: 'enum', choices: ['avro', 'json', 'confluent'], default: 'avro', description: 'encoding of signals and alerts: avro (schemas/*.avsc), json, or confluent (wire format, schemas registered under <topic>-value; needs --schema-registry-url)' },
  { key: 'schemaRegistryUrl', flag: '--schema-registry-url <url>', env: 'JOURNEYLENS_SCHEMA_REGISTRY_URL', kind: 'string', description: 'Confluent-compatible schema registry (Confluent, or Apicurio at <url>/apis/ccompat/v7): input writer schemas by id, and where --output-format confluent registers its schemas' },
  { key: 'schemaRegistryUser', flag: '--schema-registry-user <user>', env: 'JOURNEYLENS_SCHEMA_REGISTRY_USER', kind: 'string', description: 'schema registry basic-auth user' },
  { key: 'schemaRegistryPassword', flag: '--schema-registry-password <password>', env: 'JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD', kind: 'string', secret: true, description: 'schema registry basic-auth password (prefer JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD or JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE: flags show up in process lists)' },
  { key: 'schemaRegistryCaFile', flag: '--schema-registry-ca-file <path>', env: 'JOURNEYLENS_SCHEMA_REGISTRY_CA_FILE', kind: 'string', description: "PEM file with the CA certificate(s) that signed an https registry's certificate (default: the system's CAs)" },
  { key: 'createTopics', flag: '--create-topics', env: 'JOURNEYLENS_CREATE_TOPICS', kind: 'boolean', default: false, description: 'create missing output topics (signals, alerts, DLQ, late, parked) at start, with --topic-partitions and --topic-replication' },
  { key: 'topicPartitions', flag: '--topic-partitions <n>', env: 'JOURNEYLENS_TOPIC_PARTITIONS', kind: 'int', min: 1, max: 10_000, description: "partitions of topics made by --create-topics (default: the broker's num.partitions)" },
  { key: 'topicReplication', flag: '--topic-replication <n>', env: 'JOURNEYLENS_TOPIC_REPLICATION', kind: 'int', min: 1, max: 32, description: "replication factor of topics made by --create-topics (default: the broker's default.replication.factor)" },
  { key: 'bundle', flag: '--bundle <dir>', env: 'JOURNEYLENS_BUNDLE', kind: 'string', description: 'model bundle directory (default: the shipped models/default)' },
  { key: 'pseudonymizeKeyFile', flag: '--pseudonymize-key-file <path>', env: 'JOURNEYLENS_PSEUDONYMIZE_KEY_FILE', kind: 'string', description: 'publish pseudonymous session and user ids on the signals topic: HMAC-SHA-256 keyed with this file (at least 32 random bytes, the same on every instance); alerts keep the ids the CRM knows (docs/privacy.md)' },
  { key: 'dlqDenyFields', flag: '--dlq-deny-fields <paths>', env: 'JOURNEYLENS_DLQ_DENY_FIELDS', kind: 'list', description: 'comma-separated dotted paths (userId,properties.email) removed from dead-letter copies; a copy that is not a JSON object then keeps no value. Default: the original bytes (docs/privacy.md)' },
  { key: 'exactlyOnce', flag: '--exactly-once', env: 'JOURNEYLENS_EXACTLY_ONCE', kind: 'boolean', default: false, description: 'commit outputs and input offsets in one Kafka transaction (readers use read_committed)' },
  { key: 'transactionalId', flag: '--transactional-id <id>', env: 'JOURNEYLENS_TRANSACTIONAL_ID', kind: 'string', description: 'transactional id for --exactly-once; stable per instance across restarts (default: <group>-<client-id>)' },
  { key: 'group', flag: '--group <id>', env: 'JOURNEYLENS_GROUP', kind: 'string', default: 'journeylens', description: 'Kafka consumer group id' },
  { key: 'clientId', flag: '--client-id <id>', env: 'JOURNEYLENS_CLIENT_ID', kind: 'string', default: 'journeylens', description: 'Kafka client id' },
  { key: 'fromBeginning', flag: '--from-beginning', env: 'JOURNEYLENS_FROM_BEGINNING', kind: 'boolean', default: true, description: 'start from the earliest offset when the group has no committed offset' },
  { key: 'tickMs', flag: '--tick-ms <ms>', env: 'JOURNEYLENS_TICK_MS', kind: 'int', min: 10, max: 60_000, default: 250, description: 'micro-batch tick: a changed session is re-scored at most once per tick' },
  { key: 'ssl', flag: '--ssl', env: 'JOURNEYLENS_SSL', kind: 'boolean', default: false, description: 'connect to Kafka over TLS (system CAs unless --ssl-ca-file)' },
  { key: 'sslCaFile', flag: '--ssl-ca-file <path>', env: 'JOURNEYLENS_SSL_CA_FILE', kind: 'string', description: 'PEM file with the CA certificate(s) that signed the brokers’ certificates (implies --ssl)' },
  { key: 'sslCertFile', flag: '--ssl-cert-file <path>', env: 'JOURNEYLENS_SSL_CERT_FILE', kind: 'string', description: 'PEM client certificate for mutual TLS (implies --ssl)' },
  { key: 'sslKeyFile', flag: '--ssl-key-file <path>', env: 'JOURNEYLENS_SSL_KEY_FILE', kind: 'string', description: 'PEM private key of the client certificate' },
  { key: 'saslMechanism', flag: '--sasl-mechanism <mechanism>', env: 'JOURNEYLENS_SASL_MECHANISM', kind: 'enum', choices: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL authentication mechanism' },
  { key: 'saslUsername', flag: '--sasl-username <user>', env: 'JOURNEYLENS_SASL_USERNAME', kind: 'string', description: 'SASL user name' },
  { key: 'saslPassword', flag: '--sasl-password <password>', env: 'JOURNEYLENS_SASL_PASSWORD', kind: 'string', secret: true, description: 'SASL password (prefer JOURNEYLENS_SASL_PASSWORD or JOURNEYLENS_SASL_PASSWORD_FILE: flags show up in process lists)' },
  { key: 'risk', flag: '--risk <bands>', env: 'JOURNEYLENS_RISK', kind: 'string', default: RISK_SETTING_DEFAULT, description: RISK_SETTING_HELP },
  { key: 'quietEveryMs', flag: '--quiet-every-ms <ms>', env: 'JOURNEYLENS_QUIET_EVERY_MS', kind: 'int', min: 0, max: 0xffff_ffff, description: "re-score an open session each time it has been quiet this much longer (0 = off; default: the model bundle's sessionization.quietEveryMs)" },
  // sessionization (docs/journey-image.md "Sessionization"; the session key is ingestion.sessionKey)
  { key: 'idleTimeoutMs', flag: '--idle-timeout-ms <ms>', env: 'JOURNEYLENS_IDLE_TIMEOUT_MS', kind: 'int', min: 0, max: 0xffff_ffff, default: 300_000, description: 'a partition with no event for this long closes its open sessions once the clock is past their gap (reason idle; 0 = never)' },
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'JOURNEYLENS_MAX_SESSIONS', kind: 'int', min: 1, max: 0x7fff_ffff, description: 'most open sessions: beyond it the least recently active one closes early, marked evicted (default: a quarter of the heap limit at 512 bytes per session)' },
  { key: 'maxBatch', flag: '--max-batch <n>', env: 'JOURNEYLENS_MAX_BATCH', kind: 'int', min: 1, max: 4096, default: 256, description: 'most sessions scored in one micro-batch' },
  { key: 'emit', flag: '--emit <which>', env: 'JOURNEYLENS_EMIT', kind: 'enum', choices: ['every', 'change'], default: 'every', description: "which scored updates are published as signals: every one, or on change (a session's first and final signal, a new cluster or risk band, or risk moved by --emit-risk-step); every update is scored and seen by alerts either way" },
  { key: 'emitRiskStep', flag: '--emit-risk-step <step>', env: 'JOURNEYLENS_EMIT_RISK_STEP', kind: 'number', min: 0.001, max: 1, default: 0.05, description: 'with --emit change: a churn-risk move (since the session\'s last signal) that is published on its own' },
  { key: 'scoringWorkers', flag: '--scoring-workers <n>', env: 'JOURNEYLENS_SCORING_WORKERS', kind: 'int', min: 1, max: 64, default: 1, description: 'worker threads that score micro-batches (rasterize, encode, assign, neighbours, readout), sessions sharded among them by key' },
  { key: 'neighbourEf', flag: '--neighbour-ef <n>', env: 'JOURNEYLENS_NEIGHBOUR_EF', kind: 'int', min: 25, max: 10_000, description: "search the neighbours' churn-rate lookup with hnswlib at this breadth (ef, e.g. the bundle's 64) instead of the exact search (the default, cheaper on the default bundle); see docs/model.md 'Neighbours lookup'" },
  { key: 'maxInFlight', flag: '--max-in-flight <n>', env: 'JOURNEYLENS_MAX_IN_FLIGHT', kind: 'int', min: 100, max: 10_000_000, default: 50_000, description: 'records consumed but not yet committed above which partitions are paused' },
  { key: 'metricsPort', flag: '--metrics-port <port>', env: 'JOURNEYLENS_METRICS_PORT', kind: 'int', min: 0, max: 65535, default: 9464, description: 'port of /metrics, /healthz and /readyz (0 = any free port)' },
  { key: 'metricsHost', flag: '--metrics-host <host>', env: 'JOURNEYLENS_METRICS_HOST', kind: 'string', default: '0.0.0.0', description: 'address the metrics/health server binds to' },
  { key: 'uiPort', flag: '--ui-port <port>', env: 'JOURNEYLENS_UI_PORT', kind: 'int', min: 0, max: 65535, description: 'serve the read-only web console on this port beside the processor (0 = any free port; off when unset; docs/console.md)' },
  { key: 'uiHost', flag: '--ui-host <host>', env: 'JOURNEYLENS_UI_HOST', kind: 'string', default: '127.0.0.1', description: 'address the console binds; anything beyond loopback needs --ui-token' },
  { key: 'uiToken', flag: '--ui-token <token>', env: 'JOURNEYLENS_UI_TOKEN', kind: 'string', secret: true, description: 'bearer token the console asks for (at least 16 characters; or JOURNEYLENS_UI_TOKEN_FILE); required beyond loopback' },
  { key: 'sessionTimeoutMs', flag: '--session-timeout-ms <ms>', env: 'JOURNEYLENS_SESSION_TIMEOUT_MS', kind: 'int', min: 6000, max: 300_000, default: 30_000, description: 'Kafka group session timeout: how long a crashed member holds its partitions' },
  { key: 'connectTimeoutMs', flag: '--connect-timeout-ms <ms>', env: 'JOURNEYLENS_CONNECT_TIMEOUT_MS', kind: 'int', min: 100, max: 600_000, default: 10_000, description: 'how long to wait for the brokers at start-up before giving up' },
  { key: 'logLevel', flag: '--log-level <level>', env: 'JOURNEYLENS_LOG_LEVEL', kind: 'enum', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'log level' },
] as const satisfies readonly OptionSpec[];

type Specs = typeof runOptions;

/** The Kafka connection options of `run`, for commands that read or write Kafka too (same flags, env and config file). */
const CONNECTION_KEYS = ['brokers', 'clientId', 'connectTimeoutMs', 'ssl', 'sslCaFile', 'sslCertFile', 'sslKeyFile', 'saslMechanism', 'saslUsername', 'saslPassword', 'logLevel'] as const;
type ConnectionKey = (typeof CONNECTION_KEYS)[number];
export const connectionOptions = runOptions.filter((o): o is Extract<(typeof runOptions)[number], { key: ConnectionKey }> => (CONNECTION_KEYS as readonly string[]).includes(o.key));
type ValueOf<S> = S extends { kind: 'list' } ? string[] : S extends { kind: 'int' | 'number' } ? number : S extends { kind: 'boolean' } ? boolean : string;
type Resolved<T extends readonly OptionSpec[]> = {
  [S in T[number] as S extends { default: unknown } | { required: true } ? S['key'] : never]: ValueOf<S>;
} & {
  [S in T[number] as S extends { default: unknown } | { required: true } ? never : S['key']]?: ValueOf<S>;
};
export type RunConfig = Resolved<Specs>;

function describe(spec: OptionSpec): string {
  return `${spec.flag.split(' ')[0]} (env ${spec.env})`;
}

function fail(spec: OptionSpec, message: string): never {
  throw new UserError(ErrorCodes.CONFIG_INVALID, `${describe(spec)} ${message}`, { exitCode: 2 });
}

/** A custom issue with `message`, for the value transforms below (they word their own rules). */
function reject(ctx: z.core.$RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/**
 * The zod schema of one option's raw value (a string from env or flags, or any JSON value from
 * a config file): it parses the value and words every rule ("must be an integer from 10 to
 * 60000, got \"fast\".").
 */
function valueSchema(spec: OptionSpec): z.ZodType<Parsed> {
  const got = (v: unknown): string => JSON.stringify(v);
  switch (spec.kind) {
    case 'string':
      return z.unknown().transform((raw, ctx) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : reject(ctx, `must be a non-empty string, got ${got(raw)}.`)));
    case 'list':
      return z
        .unknown()
        .transform((raw, ctx) => (Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : reject(ctx, `must be a comma-separated list, got ${got(raw)}.`)))
        .transform((items) => items.map((s) => s.trim()).filter((s) => s.length > 0))
        .refine((list) => list.length > 0, { error: 'must name at least one value, e.g. "a,b".' });
    case 'int':
    case 'number': {
      const what = spec.kind === 'int' ? 'an integer' : 'a number';
      const rule = `must be ${what} from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}`;
      const range = (n: { input: unknown }): string => `${rule}, got ${String(n.input)}.`;
      let bounded = z.number();
      if (spec.min !== undefined) bounded = bounded.min(spec.min, { error: range });
      if (spec.max !== undefined) bounded = bounded.max(spec.max, { error: range });
      return z
        .unknown()
        .transform((raw, ctx) => {
          const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
          return !Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n)) ? reject(ctx, `${rule}, got ${got(raw)}.`) : n;
        })
        .pipe(bounded);
    }
    case 'boolean':
      return z.unknown().transform((raw, ctx) => {
        if (typeof raw === 'boolean') return raw;
        const s = String(raw).trim().toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(s)) return true;
        if (['0', 'false', 'no', 'off'].includes(s)) return false;
        return reject(ctx, `must be true or false, got ${got(raw)}.`);
      });
    case 'enum':
      return z.unknown().transform((raw, ctx) => {
        const s = String(raw).trim();
        return spec.choices?.includes(s) ? s : reject(ctx, `must be one of ${spec.choices?.join(', ')}, got ${got(raw)}.`);
      });
  }
}

const schemas = new WeakMap<OptionSpec, z.ZodType<Parsed>>();

/** Parses one raw value (string from env/flags, or any JSON value from a config file). */
export function parseOptionValue(spec: OptionSpec, raw: unknown): Parsed {
  let schema = schemas.get(spec);
  if (schema === undefined) schemas.set(spec, (schema = valueSchema(spec)));
  return parseOptions(schema, raw, { name: () => describe(spec), rules: 'schema' });
}

/** Adds every option of `specs` to a commander command (values are parsed later, in resolveConfig). */
export function addConfigOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const opt = new Option(spec.kind === 'boolean' ? spec.flag : spec.flag, `${spec.description} [env ${spec.env}]`);
    if (spec.kind === 'boolean') {
      cmd.addOption(opt);
      cmd.addOption(new Option(`--no-${spec.flag.replace(/^--/, '').split(' ')[0]}`).hideHelp());
    } else {
      if (spec.default !== undefined) opt.default(undefined, String(spec.default));
      cmd.addOption(opt);
    }
  }
  cmd.addOption(new Option('--config <file>', 'JSON config file with the same keys as the options [env JOURNEYLENS_CONFIG]'));
  return cmd;
}

/** Structured sections of the config file, parsed by their own schemas (e.g. ingestion). */
export const CONFIG_SECTIONS = ['ingestion'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

function configFilePath(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): string | undefined {
  return (flags.config as string | undefined) ?? (env.JOURNEYLENS_CONFIG || undefined);
}

/** A structured section of the config file (undefined when absent), and the file's folder. */
export function configSection(section: ConfigSection, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): { value: unknown; baseDir: string } {
  const path = configFilePath(flags, env);
  if (!path) return { value: undefined, baseDir: process.cwd() };
  return { value: readConfigFile(path)[section], baseDir: dirname(resolve(path)) };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--config (env JOURNEYLENS_CONFIG): cannot read ${path}: ${(err as Error).message}`, { exitCode: 2 });
  }
  const notAnObject = (why: string): never => {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--config (env JOURNEYLENS_CONFIG): ${path} is not a JSON object: ${why}`, { exitCode: 2 });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return notAnObject((err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return notAnObject('the top level must be an object');
  return parsed as Record<string, unknown>;
}

/** Keys of the ingestion section, to recognise it when it was put under another key. */
const INGESTION_KEYS = ['format', 'writerSchema', 'schemas', 'mapping', 'perTopic', 'limits', 'timestamps', 'eventIdFallback', 'sessionKey', 'consent'];

/**
 * Every key of the config file is known and every value is valid, whether or not a flag or env
 * variable overrides it: an ingestion object under `input` (which takes the topics) was once
 * overridden by --input in silence, and every record went to the DLQ.
 */
function checkConfigFile(file: Record<string, unknown>, path: string, specs: readonly OptionSpec[], alsoKnown: readonly string[]): void {
  const all = new Map<string, OptionSpec>([...runOptions, ...specs].map((s) => [s.key, s]));
  const known = [...new Set([...all.keys(), ...CONFIG_SECTIONS, ...alsoKnown])];
  for (const [key, value] of Object.entries(file)) {
    const spec = all.get(key);
    if (spec === undefined) {
      if (known.includes(key)) continue;
      throw new UserError(ErrorCodes.CONFIG_INVALID, `config file ${path}: unknown option "${key}"; known options: ${known.join(', ')}.`, { exitCode: 2 });
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const looksLikeIngestion = Object.keys(value).some((k) => INGESTION_KEYS.includes(k));
      const takes = spec.kind === 'list' ? 'a list (or a comma-separated string)' : spec.kind === 'string' || spec.kind === 'enum' ? 'a string' : spec.kind === 'boolean' ? 'true or false' : 'a number';
      throw new UserError(
        ErrorCodes.CONFIG_INVALID,
        `config file ${path}: "${key}" takes ${takes} (${spec.description}), not an object.` +
          (looksLikeIngestion ? ` Ingestion options (format, mapping, limits, timestamps, …) go under "ingestion": { "ingestion": { "mapping": … } } (docs/ingestion.md).` : ''),
        { exitCode: 2 },
      );
    }
    if (specs.includes(spec)) parseOptionValue(spec, value);
  }
}

/**
 * Resolves the effective config. `flags` are commander's parsed options (camelCase keys).
 * Unknown keys in the config file are rejected, naming the key and the known ones; `alsoKnown`
 * keys are accepted and ignored (a command that reads `run`'s config file for its Kafka settings).
 */
export function resolveConfig<S extends readonly OptionSpec[]>(
  specs: S,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  alsoKnown: readonly string[] = [],
): Resolved<S> {
  const configPath = configFilePath(flags, env);
  const file = configPath ? readConfigFile(configPath) : {};
  checkConfigFile(file, configPath ?? '', specs, alsoKnown);
  const out: Record<string, Parsed> = {};
  for (const spec of specs) {
    const raw = flags[spec.key] ?? env[spec.env] ?? (spec.secret ? secretFromFile(spec, env) : undefined) ?? file[spec.key];
    if (raw === undefined || raw === '') {
      if (spec.default !== undefined) {
        out[spec.key] = spec.default;
        continue;
      }
      if (spec.required) fail(spec, `is required; pass ${spec.flag} or set ${spec.env}.`);
      continue;
    }
    out[spec.key] = parseOptionValue(spec, raw);
  }
  return out as Resolved<S>;
}

/** Secrets may come from a mounted file named by <ENV>_FILE (Kubernetes secrets). */
function secretFromFile(spec: OptionSpec, env: NodeJS.ProcessEnv): string | undefined {
  const path = env[`${spec.env}_FILE`];
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${spec.env}_FILE: cannot read ${path}: ${(err as Error).message}`, { exitCode: 2 });
  }
}

/** Cross-option rules that one option alone cannot express; messages name both options. */
export function checkRunConfig(config: RunConfig): RunConfig {
  const fail2 = (message: string): never => {
    throw new UserError(ErrorCodes.CONFIG_INVALID, message, { exitCode: 2 });
  };
  if (config.saslMechanism && (!config.saslUsername || config.saslPassword === undefined)) {
    fail2(`--sasl-mechanism ${config.saslMechanism} needs --sasl-username (env JOURNEYLENS_SASL_USERNAME) and a password (env JOURNEYLENS_SASL_PASSWORD or JOURNEYLENS_SASL_PASSWORD_FILE).`);
  }
  if (!config.saslMechanism && (config.saslUsername || config.saslPassword !== undefined)) {
    fail2('--sasl-username/--sasl-password are set but --sasl-mechanism (env JOURNEYLENS_SASL_MECHANISM) is not; choose plain, scram-sha-256 or scram-sha-512.');
  }
  if (Boolean(config.sslCertFile) !== Boolean(config.sslKeyFile)) {
    fail2('--ssl-cert-file and --ssl-key-file (env JOURNEYLENS_SSL_CERT_FILE / JOURNEYLENS_SSL_KEY_FILE) go together: give both for mutual TLS, or neither.');
  }
  if (config.webhookUrl) {
    let url: URL | undefined;
    try {
      url = new URL(config.webhookUrl);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) fail2(`--webhook-url (env JOURNEYLENS_WEBHOOK_URL) must be an http:// or https:// URL, got "${config.webhookUrl}".`);
    if (!config.webhookSecret) fail2('--webhook-url needs a signing secret: set JOURNEYLENS_WEBHOOK_SECRET or JOURNEYLENS_WEBHOOK_SECRET_FILE (or --webhook-secret).');
    standardWebhookKey(config.webhookSecret as string);
    if (!config.alertsTopic) fail2('--webhook-url delivers alerts, so it needs --alerts-topic (env JOURNEYLENS_ALERTS_TOPIC) too.');
  }
  parseRiskSetting(config.risk, '--risk (env JOURNEYLENS_RISK)');
  if (!config.createTopics && (config.topicPartitions !== undefined || config.topicReplication !== undefined)) {
    fail2('--topic-partitions and --topic-replication (env JOURNEYLENS_TOPIC_PARTITIONS / JOURNEYLENS_TOPIC_REPLICATION) shape the topics --create-topics makes; add --create-topics, or leave them out.');
  }
  checkSchemaRegistry(config, fail2);
  // With --exactly-once a webhook call still cannot be rolled back with a Kafka transaction:
  // webhook alerts stay at-least-once with an Idempotency-Key, as docs/webhook.md says.
  return config;
}

/** The schema-registry options: a URL journeylens can call, credentials in pairs, a CA only for https. */
function checkSchemaRegistry(config: RunConfig, fail2: (message: string) => never): void {
  const url = config.schemaRegistryUrl;
  if (url === undefined) {
    const stray = [config.schemaRegistryUser && '--schema-registry-user', config.schemaRegistryPassword !== undefined && 'a schema registry password', config.schemaRegistryCaFile && '--schema-registry-ca-file'].filter(Boolean);
    if (stray.length > 0) fail2(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but --schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL) is not; set the registry's URL, or remove them.`);
    if (config.outputFormat === 'confluent') fail2('--output-format confluent registers the output schemas in a schema registry: set --schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL), or choose avro or json.');
    return;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    fail2(`--schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL) must be an http:// or https:// URL, e.g. https://registry:8081 or http://apicurio:8080/apis/ccompat/v7; got "${url}".`);
  }
  if (parsed!.username || parsed!.password) fail2('--schema-registry-url must not carry credentials: use --schema-registry-user and JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD (or _FILE) instead.');
  if ((config.schemaRegistryUser === undefined) !== (config.schemaRegistryPassword === undefined)) {
    fail2('--schema-registry-user (env JOURNEYLENS_SCHEMA_REGISTRY_USER) and the password (env JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD or JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE) go together: give both for basic auth, or neither.');
  }
  if (config.schemaRegistryCaFile !== undefined && parsed!.protocol !== 'https:') {
    fail2(`--schema-registry-ca-file (env JOURNEYLENS_SCHEMA_REGISTRY_CA_FILE) is for an https registry, but --schema-registry-url is ${url}.`);
  }
}

/** `--input` entries: plain topic names, or `/regex/` for a pattern subscription. */
export function inputTopics(input: string[]): (string | RegExp)[] {
  return input.map((t) => {
    const m = /^\/(.+)\/$/.exec(t);
    if (!m) return t;
    try {
      return new RegExp(m[1] as string);
    } catch (err) {
      throw new UserError(ErrorCodes.CONFIG_INVALID, `--input (env JOURNEYLENS_INPUT): ${t} is not a valid regular expression: ${(err as Error).message}`, { exitCode: 2 });
    }
  });
}

/** The effective config with secrets redacted, for `journeylens config print` and logs. */
export function redactConfig(specs: readonly OptionSpec[], config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const v = config[spec.key];
    if (v === undefined) continue;
    out[spec.key] = spec.secret ? '***' : v;
  }
  return out;
}
