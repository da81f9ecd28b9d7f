import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactConfig, resolveConfig, runOptions } from '../../src/config.ts';
import { UserError } from '../../src/errors.ts';

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('run config', () => {
  it('takes flags over env over the config file over defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ brokers: 'file:9092', input: ['a', 'b'], group: 'from-file', tickMs: 500 }));
    const cfg = resolveConfig(runOptions, { config: file, group: 'from-flag' }, { JOURNEYLENS_TICK_MS: '300' });
    expect(cfg.brokers).toEqual(['file:9092']);
    expect(cfg.input).toEqual(['a', 'b']);
    expect(cfg.group).toBe('from-flag');
    expect(cfg.tickMs).toBe(300);
    expect(cfg.signalsTopic).toBe('journey.signals');
    expect(cfg.fromBeginning).toBe(true);
  });

  it('names the option, its env variable and the fix when a required value is missing', () => {
    const err = errorOf(() => resolveConfig(runOptions, { input: 'clicks' }, {}));
    expect(err.message).toBe('--brokers (env JOURNEYLENS_BROKERS) is required; pass --brokers <list> or set JOURNEYLENS_BROKERS.');
    expect(err.exitCode).toBe(2);
  });

  it('rejects out-of-range numbers and unknown enum values with the allowed range', () => {
    expect(errorOf(() => resolveConfig(runOptions, { brokers: 'b:1', input: 'x' }, { JOURNEYLENS_TICK_MS: 'fast' })).message).toBe(
      '--tick-ms (env JOURNEYLENS_TICK_MS) must be an integer from 10 to 60000, got "fast".',
    );
    expect(errorOf(() => resolveConfig(runOptions, { brokers: 'b:1', input: 'x', logLevel: 'loud' }, {})).message).toBe(
      '--log-level (env JOURNEYLENS_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent, got "loud".',
    );
  });

  it('rejects unknown keys in the config file, listing the known ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ broker: 'x:1' }));
    expect(errorOf(() => resolveConfig(runOptions, { config: file }, {})).message).toMatch(/^config file .*c\.json: unknown option "broker"; known options: brokers, input,/);
  });

  // Issue 17, item 1: ingestion options under "input" were silently overridden by --input.
  it('refuses an ingestion object under "input", naming "ingestion", even when --input overrides the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ brokers: 'b:1', input: { format: 'json', mapping: { sessionId: 'session' } } }));
    for (const flags of [{ config: file }, { config: file, input: 'clicks' }]) {
      const err = errorOf(() => resolveConfig(runOptions, flags, {}));
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(/^config file .*c\.json: "input" takes a list \(or a comma-separated string\) \(input clickstream topics, .*\), not an object\. Ingestion options \(format, mapping, limits, timestamps, …\) go under "ingestion": \{ "ingestion": \{ "mapping": … \} \} \(docs\/ingestion\.md\)\.$/);
    }
    writeFileSync(file, JSON.stringify({ brokers: 'b:1', signalsTopic: { name: 'x' } }));
    expect(errorOf(() => resolveConfig(runOptions, { config: file, input: 'x' }, {})).message).toMatch(/"signalsTopic" takes a string \(topic for JourneySignal records\), not an object\.$/);
    // a bad value in the file is refused even when a flag overrides it
    writeFileSync(file, JSON.stringify({ brokers: 'b:1', input: 'x', tickMs: 'fast' }));
    expect(errorOf(() => resolveConfig(runOptions, { config: file, tickMs: '300' }, {})).message).toBe('--tick-ms (env JOURNEYLENS_TICK_MS) must be an integer from 10 to 60000, got "fast".');
    // and the right key works
    writeFileSync(file, JSON.stringify({ brokers: 'b:1', input: 'x', ingestion: { mapping: { sessionId: 'session' } } }));
    expect(resolveConfig(runOptions, { config: file }, {}).input).toEqual(['x']);
  });
});

describe('input topics', () => {
  it('turns /regex/ entries into pattern subscriptions and rejects bad patterns by name', async () => {
    const { inputTopics } = await import('../../src/config.ts');
    expect(inputTopics(['clicks', '/^web\\..+/'])).toEqual(['clicks', /^web\..+/]);
    expect(() => inputTopics(['/(/'])).toThrow(/^--input \(env JOURNEYLENS_INPUT\): \/\(\/ is not a valid regular expression/);
  });
});

describe('journeylens config print', () => {
  it('prints the effective config with secrets redacted, and the ingestion defaults', async () => {
    const { main } = await import('../../src/cli.ts');
    const { vi } = await import('vitest');
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out += String(c);
      return true;
    });
    const prev = { ...process.env };
    process.env.JOURNEYLENS_SASL_PASSWORD = 'hunter2-secret';
    try {
      const code = await main(['node', 'journeylens', 'config', 'print', '--brokers', 'k:9092', '--input', 'clicks', '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'svc']);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
      process.env = prev;
    }
    expect(out).not.toContain('hunter2-secret');
    const printed = JSON.parse(out) as Record<string, unknown>;
    expect(printed).toMatchObject({ brokers: ['k:9092'], input: ['clicks'], saslMechanism: 'scram-sha-512', saslPassword: '***', outputFormat: 'avro', tickMs: 250 });
    expect(printed.ingestion).toMatchObject({ format: 'json' });
  });

  it('refuses a SASL mechanism without credentials, naming the options', async () => {
    const { checkRunConfig } = await import('../../src/config.ts');
    const cfg = resolveConfig(runOptions, { brokers: 'k:1', input: 'x', saslMechanism: 'plain' }, {});
    expect(() => checkRunConfig(cfg)).toThrow('--sasl-mechanism plain needs --sasl-username (env JOURNEYLENS_SASL_USERNAME) and a password (env JOURNEYLENS_SASL_PASSWORD or JOURNEYLENS_SASL_PASSWORD_FILE).');
  });

  it('refuses a whsec_ webhook secret that is not base64 at start, and takes a good one', async () => {
    const { checkRunConfig } = await import('../../src/config.ts');
    const base = { brokers: 'k:1', input: 'x', alertsTopic: 'a', webhookUrl: 'https://crm.example/hook' };
    expect(() => checkRunConfig(resolveConfig(runOptions, base, { JOURNEYLENS_WEBHOOK_SECRET: 'whsec_%%%' }))).toThrow(/the webhook secret starts with whsec_ but what follows is not base64/);
    const good = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
    expect(checkRunConfig(resolveConfig(runOptions, base, { JOURNEYLENS_WEBHOOK_SECRET: good })).webhookSecret).toBe(good);
  });

  it('validates the schema registry options at start, naming them', async () => {
    const { checkRunConfig } = await import('../../src/config.ts');
    const check = (flags: Record<string, unknown>, env: Record<string, string> = {}) => () => checkRunConfig(resolveConfig(runOptions, { brokers: 'k:1', input: 'x', ...flags }, env));
    expect(check({ schemaRegistryUrl: 'registry:8081' })).toThrow('--schema-registry-url (env JOURNEYLENS_SCHEMA_REGISTRY_URL) must be an http:// or https:// URL, e.g. https://registry:8081 or http://apicurio:8080/apis/ccompat/v7; got "registry:8081".');
    expect(check({ schemaRegistryUrl: 'https://u:p@registry:8081' })).toThrow(/must not carry credentials/);
    expect(check({ schemaRegistryUrl: 'https://registry:8081', schemaRegistryUser: 'jl' })).toThrow('--schema-registry-user (env JOURNEYLENS_SCHEMA_REGISTRY_USER) and the password (env JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD or JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE) go together');
    expect(check({ schemaRegistryUrl: 'http://registry:8081', schemaRegistryCaFile: '/ca.pem' })).toThrow(/--schema-registry-ca-file .* is for an https registry/);
    expect(check({ schemaRegistryUser: 'jl' })).toThrow(/--schema-registry-user is set but --schema-registry-url/);
    expect(check({ outputFormat: 'confluent' })).toThrow(/--output-format confluent registers the output schemas in a schema registry: set --schema-registry-url/);
    const dir = mkdtempSync(join(tmpdir(), 'jl-sr-'));
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const ok = checkRunConfig(resolveConfig(runOptions, { brokers: 'k:1', input: 'x', schemaRegistryUrl: 'https://registry:8081', schemaRegistryUser: 'jl', outputFormat: 'confluent' }, { JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE: join(dir, 'pw') }));
    expect(ok.schemaRegistryPassword).toBe('s3cret');
    expect(redactConfig(runOptions, ok as unknown as Record<string, unknown>).schemaRegistryPassword).toBe('***');
  });

  it('reads a secret from the file named by <ENV>_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-secret-'));
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const cfg = resolveConfig(runOptions, { brokers: 'k:1', input: 'x' }, { JOURNEYLENS_SASL_PASSWORD_FILE: join(dir, 'pw') });
    expect(cfg.saslPassword).toBe('s3cret');
  });
});
