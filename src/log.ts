// Structured JSON logs (pino, one object per line on stderr) with secrets removed before they
// are written. Two layers, because a leaked SASL password or webhook secret cannot be taken
// back: pino's compiled `redact` paths for the known places (fast), and a walk over every log
// object and child binding for any field whose name says it is a secret, at any depth.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ErrorCodes, UserError } from './errors.ts';
import { version } from './version.ts';

export type { Logger } from 'pino';

export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export const REDACTED = '[REDACTED]';

// Field names (lower-cased, without `_`/`-`) that always hold a secret, and suffixes that do
// (`saslPassword`, `webhook_secret`, `accessToken`, `sslKey`...). A bare `key` is a secret too
// (ssl.key); Kafka message keys are logged as `messageKey`, which is not.
const SECRET_NAMES = new Set(['password', 'passwd', 'secret', 'token', 'key', 'passphrase', 'authorization', 'cookie', 'credentials', 'signature']);
const SECRET_SUFFIXES = ['password', 'passwd', 'secret', 'token', 'passphrase', 'privatekey', 'apikey', 'sslkey', 'secretkey', 'accesskey', 'credentials'];

/** True when a field with this name must never be logged or printed. */
export function isSecretKey(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAMES.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

/**
 * A copy of `value` with every secret field (see isSecretKey) replaced by "[REDACTED]", at any
 * depth. Only plain objects and arrays are walked; errors, buffers and dates are kept as they
 * are so pino's serializers still see them. Used by the logger and by `config print`.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => walk(v, seen));
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : walk(v, seen);
  }
  return out;
}

// The compiled layer: the config shapes that carry secrets, at the depths they are logged.
const REDACT_FIELDS = ['password', 'secret', 'token', 'key', 'passphrase', 'authorization'];
const REDACT_PATHS = [
  'sasl.password',
  'ssl.key',
  'ssl.passphrase',
  'webhook.secret',
  '*.sasl.password',
  '*.ssl.key',
  '*.webhook.secret',
  'headers.authorization',
  '*.headers.authorization',
  ...REDACT_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

export interface LoggerConfig {
  /** Default `info`. */
  level?: LogLevel | string;
  /** The component, logged as `component` on every line (e.g. `consumer`, `sink.webhook`). */
  component?: string;
  /** Where lines go; default stderr, so commands that print results on stdout stay pipeable. Tests pass a stream. */
  destination?: DestinationStream;
}

/** Checks a level from --log-level / JOURNEYLENS_LOG_LEVEL; exit code 2 when it is unknown. */
export function parseLogLevel(value: string, option = '--log-level / JOURNEYLENS_LOG_LEVEL'): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LogLevels as readonly string[]).includes(level)) return level as LogLevel;
  throw new UserError(ErrorCodes.CONFIG_INVALID, `${option} must be one of ${LogLevels.join(', ')}; got "${value}".`, { exitCode: 2 });
}

/** The journeylens logger: JSON lines with ISO time, level names and secrets redacted. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: parseLogLevel(config.level ?? 'info'),
    base: { service: 'journeylens', version, ...(config.component ? { component: config.component } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: log pipelines (Loki, Elasticsearch) filter on them directly.
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactSecrets(bindings),
      log: (object) => redactSecrets(object),
    },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  const logger = pino(options, config.destination ?? pino.destination(2));
  // pino resets the bindings formatter for children, so child bindings are redacted here;
  // children are created from their parent's prototype chain and inherit this override.
  const base = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return base.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}
