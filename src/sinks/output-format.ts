// How signals and alerts are encoded on their topics (--output-format):
// - avro: the Avro binary of schemas/journey-signal.avsc / churn-alert.avsc, no header;
// - json: the same fields as JSON;
// - confluent: the Confluent wire format (magic byte, schema id, Avro body), with each schema
//   registered in the schema registry under `<topic>-value` (TopicNameStrategy, what Confluent's
//   and Apicurio's deserializers look up), so any registry-aware consumer decodes them by id.
//   A subject without its own compatibility rule gets BACKWARD: a new version must read the old
//   one's data. The enums carry defaults, so a reader on an older version also reads a new band.
import { type Logger } from 'pino';
import { type ChurnAlert, type JourneySignal } from '../contracts/records.ts';
import { type ContractName, contractSchema, contractType } from '../contracts/schemas.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type CompatibilityLevel, type SchemaRegistryClient, SchemaRegistryAuthError, SchemaRegistryRequestError, SchemaRegistryUnavailableError } from '../schema-registry/client.ts';
import { confluentFrame } from '../schema-registry/wire-format.ts';

export const OUTPUT_FORMATS = ['avro', 'json', 'confluent'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The compatibility rule journeylens sets on its own subjects when they have none. */
export const OUTPUT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export interface OutputEncoders {
  signal(signal: JourneySignal): Buffer | string;
  alert(alert: ChurnAlert): Buffer | string;
  /** Confluent format: the schema ids registered, by subject. */
  readonly registered: Readonly<Record<string, number>>;
}

export interface OutputEncodersOptions {
  format: OutputFormat;
  signalsTopic: string;
  alertsTopic?: string;
  registry?: SchemaRegistryClient;
  /** How long to keep trying while the registry does not answer at start; default 30 s. */
  registryTimeoutMs?: number;
  log?: Logger;
}

/** `<topic>-value`: Confluent's TopicNameStrategy for record values. */
export const valueSubject = (topic: string): string => `${topic}-value`;

/**
 * The encoders for `format`. With confluent, registers the output schemas first (idempotent: a
 * schema registered before gets its existing id) and fails the start with a message naming the
 * option when the registry refuses them.
 */
export async function createOutputEncoders(options: OutputEncodersOptions): Promise<OutputEncoders> {
  const signalType = contractType('journeySignal');
  const alertType = contractType('churnAlert');
  if (options.format === 'json') return { signal: (s) => JSON.stringify(s), alert: (a) => JSON.stringify(a), registered: {} };
  if (options.format === 'avro') return { signal: (s) => signalType.toBuffer(s), alert: (a) => alertType.toBuffer(a), registered: {} };
  const registry = options.registry;
  if (registry === undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--output-format confluent needs --schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL) to register the output schemas.', { exitCode: 2 });
  }
  const registered: Record<string, number> = {};
  const register = (topic: string, contract: ContractName) => withStartRetry(options, () => registerValueSchema(registry, topic, contract, options.log)).then((id) => (registered[valueSubject(topic)] = id));
  const signalId = await register(options.signalsTopic, 'journeySignal');
  const alertId = options.alertsTopic !== undefined ? await register(options.alertsTopic, 'churnAlert') : undefined;
  return {
    signal: (s) => confluentFrame(signalId, signalType.toBuffer(s)),
    alert: (a) => {
      if (alertId === undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, 'an alert was encoded without --alerts-topic, so no alert schema was registered.');
      return confluentFrame(alertId, alertType.toBuffer(a));
    },
    registered,
  };
}

/** Registers the contract's schema under `<topic>-value`, setting BACKWARD on a subject that has no rule of its own. */
export async function registerValueSchema(registry: SchemaRegistryClient, topic: string, contract: ContractName, log?: Logger): Promise<number> {
  const subject = valueSubject(topic);
  const text = JSON.stringify(contractSchema(contract));
  const level = await registry.subjectCompatibility(subject);
  if (level === undefined) await registry.setSubjectCompatibility(subject, OUTPUT_COMPATIBILITY);
  else if (level !== OUTPUT_COMPATIBILITY) log?.info({ subject, compatibility: level }, 'schema registry subject keeps its own compatibility rule');
  try {
    const id = await registry.register(subject, text);
    log?.info({ subject, id }, 'output schema registered');
    return id;
  } catch (err) {
    if (err instanceof SchemaRegistryRequestError && err.status === 409) {
      throw new UserError(
        ErrorCodes.SCHEMA_REGISTRY,
        `the schema registry refuses schemas/${contract === 'journeySignal' ? 'journey-signal' : 'churn-alert'}.avsc under ${subject}: it is not ${level ?? OUTPUT_COMPATIBILITY}-compatible with the version registered there (${err.message}). Write to a new topic, or relax the subject's rule if its readers can take the change.`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Retries while the registry does not answer, up to the timeout; credentials and TLS problems fail at once, naming the options. */
async function withStartRetry<T>(options: OutputEncodersOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (options.registryTimeoutMs ?? 30_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SchemaRegistryAuthError) throw new UserError(ErrorCodes.SCHEMA_REGISTRY, err.message, { exitCode: 2, cause: err });
      if (!(err instanceof SchemaRegistryUnavailableError)) throw err;
      if (Date.now() >= deadline) {
        throw new UserError(ErrorCodes.SCHEMA_REGISTRY, `cannot register the output schemas: ${err.message}. Check --schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL) and that the registry is up.`, { cause: err });
      }
      options.log?.warn({ err: err.message, attempt }, 'schema registry not answering at start; retrying');
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
    }
  }
}
