// A client of the Confluent Schema Registry REST API, as served by Confluent Schema Registry and by
// Apicurio Registry's compatibility layer (`/apis/ccompat/v7`): schemas by id, registration under
// a subject, and a subject's compatibility level. Shared by ingestion (writer schemas by id) and
// the sinks (registering the output schemas), so it knows neither.
//
// What a failure means decides what the caller does, so each has its own error:
// - SchemaNotFoundError: the registry answered, and the id does not exist (the record is bad);
// - SchemaRegistryUnavailableError: no answer, a timeout, 5xx, 429 (wait and try again);
// - SchemaRegistryAuthError: 401/403 or a TLS certificate the CA file does not vouch for (config);
// - SchemaRegistryRequestError: any other refusal, e.g. 409 for an incompatible schema.
import { readFileSync } from 'node:fs';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ErrorCodes, JourneylensError, UserError } from '../errors.ts';

export const COMPATIBILITY_LEVELS = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export interface SchemaRegistryOptions {
  /** Base URL of the Confluent-compatible API, e.g. https://registry:8081 or http://apicurio:8080/apis/ccompat/v7. */
  url: string;
  username?: string;
  password?: string;
  /** PEM CA bundle to trust for https (a private CA); the system's CAs otherwise. */
  caFile?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export class SchemaRegistryError extends JourneylensError {
  override name = 'SchemaRegistryError';
  constructor(message: string, options: { cause?: unknown; canRetry?: boolean } = {}) {
    super(ErrorCodes.SCHEMA_REGISTRY, message, options);
  }
}

/** The registry answered: no schema has this id. */
export class SchemaNotFoundError extends SchemaRegistryError {
  override name = 'SchemaNotFoundError';
  constructor(
    readonly id: number,
    registry: string,
  ) {
    super(`schema id ${id} does not exist in the schema registry at ${registry}`);
  }
}

/** No usable answer (connection refused, timeout, 5xx, 429): try again later. */
export class SchemaRegistryUnavailableError extends SchemaRegistryError {
  override name = 'SchemaRegistryUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, { canRetry: true, cause });
  }
}

/** Credentials refused (401/403), or the server's certificate is not trusted: a configuration problem. */
export class SchemaRegistryAuthError extends SchemaRegistryError {
  override name = 'SchemaRegistryAuthError';
}

/** Any other refusal; `status` and the registry's `error_code` say which. */
export class SchemaRegistryRequestError extends SchemaRegistryError {
  override name = 'SchemaRegistryRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number | undefined,
  ) {
    super(message);
  }
}

/** A registered schema as GET /schemas/ids/<id> returns it. */
export interface RegisteredSchema {
  schema: string;
  /** AVRO when absent (Confluent omits it for Avro). */
  schemaType: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

// Node's TLS error codes for a certificate it does not trust (or that does not match the host).
const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|altnames/i;

export class SchemaRegistryClient {
  /** The URL as it may be logged: no credentials, no query. */
  readonly target: string;
  private readonly base: URL;
  private readonly authorization: string | undefined;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;
  /** Ids never change what they point to: each is fetched once; concurrent lookups share the request. */
  private readonly byId = new Map<number, Promise<RegisteredSchema>>();

  constructor(options: SchemaRegistryOptions) {
    const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    this.base = base;
    this.target = `${base.origin}${base.pathname.replace(/\/$/, '')}`;
    this.authorization = options.username !== undefined ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}` : undefined;
    this.ca = options.caFile !== undefined ? readCa(options.caFile) : undefined;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The schema registered under `id`. Cached for good once found; failures are not cached. */
  schemaById(id: number): Promise<RegisteredSchema> {
    let found = this.byId.get(id);
    if (found === undefined) {
      found = this.call('GET', `schemas/ids/${id}`).then((res) => {
        if (res.status === 404) throw new SchemaNotFoundError(id, this.target);
        const body = this.ok(res, `GET schemas/ids/${id}`) as { schema?: unknown; schemaType?: unknown };
        if (typeof body.schema !== 'string') throw new SchemaRegistryRequestError(`GET schemas/ids/${id}: the answer has no schema text`, res.status, undefined);
        return { schema: body.schema, schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO' };
      });
      this.byId.set(id, found);
      found.catch(() => this.byId.delete(id));
    }
    return found;
  }

  /** Registers `schema` (Avro JSON) under `subject`, or finds it registered already; returns its id. */
  async register(subject: string, schema: string): Promise<number> {
    const res = await this.call('POST', `subjects/${encodeURIComponent(subject)}/versions`, { schema });
    const body = this.ok(res, `register a schema under ${subject}`) as { id?: unknown };
    if (typeof body.id !== 'number') throw new SchemaRegistryRequestError(`register a schema under ${subject}: the answer has no id`, res.status, undefined);
    return body.id;
  }

  /** The subject's own compatibility level; undefined when it has none (the global level applies). */
  async subjectCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    const res = await this.call('GET', `config/${encodeURIComponent(subject)}`);
    if (res.status === 404) return undefined;
    const body = this.ok(res, `GET config/${subject}`) as { compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel };
    return body.compatibilityLevel ?? body.compatibility;
  }

  async setSubjectCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    this.ok(await this.call('PUT', `config/${encodeURIComponent(subject)}`, { compatibility: level }), `PUT config/${subject}`);
  }

  /** Whether `schema` may be registered next under `subject` by the subject's compatibility rule (true when the subject is new). */
  async isCompatible(subject: string, schema: string): Promise<boolean> {
    const res = await this.call('POST', `compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, { schema });
    if (res.status === 404) return true;
    return (this.ok(res, `compatibility check under ${subject}`) as { is_compatible?: boolean }).is_compatible === true;
  }

  /** One cheap authenticated request (the global compatibility level): proves reachability, credentials and TLS. */
  async probe(): Promise<void> {
    this.ok(await this.call('GET', 'config'), 'GET config');
  }

  private ok(res: { status: number; body: unknown }, what: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body;
    const b = res.body as { message?: unknown; error_code?: unknown } | undefined;
    const detail = typeof b?.message === 'string' ? `: ${b.message}` : '';
    if (res.status === 401 || res.status === 403) {
      throw new SchemaRegistryAuthError(`${what}: the schema registry at ${this.target} answered ${res.status}${detail}; check --schema-registry-user and the password (JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD or JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE).`);
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new SchemaRegistryUnavailableError(`${what}: the schema registry at ${this.target} answered ${res.status}${detail}`);
    throw new SchemaRegistryRequestError(`${what}: the schema registry at ${this.target} answered ${res.status}${detail}`, res.status, typeof b?.error_code === 'number' ? b.error_code : undefined);
  }

  private call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: CONTENT_TYPE };
    if (payload) {
      headers['content-type'] = CONTENT_TYPE;
      headers['content-length'] = String(payload.length);
    }
    if (this.authorization) headers.authorization = this.authorization;
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers, timeout: this.timeoutMs, ...(https && this.ca ? { ca: this.ca } : {}) }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new SchemaRegistryUnavailableError(`${method} ${this.target}/${path}: the answer broke off (${err.message})`, err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = { message: text.slice(0, 300) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (TLS_TRUST.test(`${err.code ?? ''} ${err.message}`)) {
          reject(new SchemaRegistryAuthError(`${method} ${this.target}/${path}: TLS: ${err.message}; give the CA that signed the registry's certificate with --schema-registry-ca-file.`, { cause: err }));
        } else reject(new SchemaRegistryUnavailableError(`${method} ${this.target}/${path}: ${[err.code, err.message].filter(Boolean).join(' ')}`, err));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--schema-registry-ca-file (env JOURNEYLENS_SCHEMA_REGISTRY_CA_FILE): cannot read ${path}: ${(err as Error).message}`, { exitCode: 2, cause: err });
  }
}
