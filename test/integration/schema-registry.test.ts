// The schema registry for real: Apicurio Registry 3 (fetched by scripts/ensure-registry.mjs,
// started by src/local-registry/ on a Java >= 21 it finds), serving the Confluent-compatible API
// over TLS with basic auth and a file-backed store, so a restart keeps its ids. Against it and the
// real broker: an Avro producer's records are decoded by the writer schema fetched by id, signals
// and alerts go out in wire format under schemas registered as <topic>-value, an unknown id and an
// unreadable writer schema are dead-lettered with their reasons, and a registry stopped mid-stream
// dead-letters nothing: partitions wait, paused, and resume when it is back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avsc from 'avsc';
import { type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { type App, startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { contractSchema } from '../../src/contracts/schemas.ts';
import { UserError } from '../../src/errors.ts';
import { freePort } from '../../src/local-kafka/local-kafka.ts';
import { type LocalRegistryHandle, startLocalRegistry } from '../../src/local-registry/local-registry.ts';
import { createLogger } from '../../src/log.ts';
import { SchemaRegistryClient } from '../../src/schema-registry/client.ts';
import { confluentFrame, confluentSchemaId } from '../../src/schema-registry/wire-format.ts';
import { DLQ_HEADERS } from '../../src/sinks/dead-letter.ts';
import { collect, createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const T0 = Date.UTC(2026, 10, 1, 12);
const USER = 'journeylens';

let dir = '';
let registry: LocalRegistryHandle | undefined;
let port = 0;
let password = '';
let client: SchemaRegistryClient;
const tls = { certFile: '', keyFile: '' };

function startRegistry(): Promise<LocalRegistryHandle> {
  return startLocalRegistry({ port, users: { [USER]: password }, tls, dataDir: join(dir, 'data') });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jl-registry-test-'));
  tls.certFile = join(dir, 'cert.pem');
  tls.keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', tls.keyFile, '-out', tls.certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  password = `pw-${uniqueName('x')}`;
  writeFileSync(join(dir, 'password'), `${password}\n`);
  port = await freePort();
  const started = Date.now();
  registry = await startRegistry();
  process.stderr.write(`[schema-registry] Apicurio Registry at ${registry.ccompatUrl} on Java ${registry.java.version} (${registry.java.source}: ${registry.java.java}), ready in ${Date.now() - started} ms\n`);
  client = new SchemaRegistryClient({ url: registry.ccompatUrl, username: USER, password, caFile: tls.certFile });
}, 180_000);

afterAll(async () => {
  await registry?.stop();
});

const event = (i: number, session: string) => ({ eventId: `e-${session}-${i}`, sessionId: session, userId: `u-${session}`, timestamp: T0 + i * 2000, type: i % 3 === 2 ? 'support_contact' : 'page_view', page: '/p', durationMs: 100, value: null, properties: {} });
const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
// A producer's own schema: another name, and without the defaulted fields it does not send.
const producerSchema = {
  ...contractSchema('clickEvent'),
  name: 'PageEvent',
  namespace: 'com.acme.web',
  fields: (contractSchema('clickEvent').fields as { name: string }[]).filter((f) => !['value', 'properties'].includes(f.name)),
};

async function processor(topics: { input: string; signals: string; alerts?: string; dlq: string }, extra: Record<string, string | undefined> = {}, env: Record<string, string> = {}): Promise<App> {
  const configFile = join(dir, `${uniqueName('config')}.json`);
  writeFileSync(configFile, JSON.stringify({ ingestion: { format: 'confluent' } }));
  const flags = {
    brokers,
    input: topics.input,
    signalsTopic: topics.signals,
    ...(topics.alerts ? { alertsTopic: topics.alerts } : {}),
    dlqTopic: topics.dlq,
    group: uniqueName('g'),
    metricsPort: '0',
    metricsHost: '127.0.0.1',
    tickMs: '100',
    config: configFile,
    schemaRegistryUrl: registry!.ccompatUrl,
    schemaRegistryUser: USER,
    schemaRegistryCaFile: tls.certFile,
    outputFormat: 'confluent',
    ...extra,
  };
  const app = await startApp(resolveConfig(runOptions, flags, { JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE: join(dir, 'password'), ...env }), { flags, log: createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'error') as 'error' }) });
  onTestFinished(() => app.stop());
  return app;
}

/** Decodes a wire-format value with the schema the registry has for its id. */
async function decodeWire(value: Buffer): Promise<{ id: number; schema: avsc.Type; value: Record<string, unknown> }> {
  const id = confluentSchemaId(value)!;
  const schema = avsc.Type.forSchema(JSON.parse((await client.schemaById(id)).schema) as avsc.Schema);
  return { id, schema, value: schema.fromBuffer(value.subarray(5)) as Record<string, unknown> };
}

describe('schema registry (Apicurio, TLS + basic auth) with the real broker', () => {
  it('decodes an Avro producer by schema id, writes signals and alerts in wire format under <topic>-value, dead-letters unknown and unreadable ids', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, alerts, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals, alerts, dlq], 2);
    const producerId = await client.register(`${input}-value`, JSON.stringify(producerSchema));
    // registered, but no ClickEvent can be read from it (no sessionId): its records are dead-lettered
    const unreadable = { type: 'record', name: 'Ping', namespace: 'com.acme', fields: [{ name: 'eventId', type: 'string' }] };
    const unreadableId = await client.register(`${uniqueName('other')}-value`, JSON.stringify(unreadable));
    const writer = avsc.Type.forSchema(producerSchema as avsc.Schema);
    const sessions = Array.from({ length: 6 }, (_, s) => `s${s}`);
    const messages = sessions.flatMap((s) => Array.from({ length: 8 }, (_, i) => ({ key: s, value: confluentFrame(producerId, writer.toBuffer(event(i, s))) })));
    messages.push({ key: 'unknown', value: confluentFrame(987_654, writer.toBuffer(event(0, 'unknown'))) });
    messages.push({ key: 'unreadable', value: confluentFrame(unreadableId, avsc.Type.forSchema(unreadable as avsc.Schema).toBuffer({ eventId: 'p' })) });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages });
    await producer.disconnect();

    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    const dead = await collect(kafka, dlq);
    onTestFinished(() => dead.stop());
    const alertsOut = await collect(kafka, alerts);
    onTestFinished(() => alertsOut.stop());
    const app = await processor({ input, signals, alerts, dlq });
    const sessionsOf = (ms: KafkaMessage[]) => Promise.all(ms.map(async (m) => (await decodeWire(m.value!)).value.sessionId as string));
    await out.waitFor((ms) => ms.length >= sessions.length, 60_000, 'signals');
    await dead.waitFor((ms) => ms.length >= 2, 30_000, 'two dead letters');
    let seen: string[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      seen = [...new Set(await sessionsOf(out.messages))].sort();
      if (seen.length === sessions.length) break;
    }
    expect(seen).toEqual(sessions);

    // every signal: the wire format, an id registered under <signals>-value, a JourneySignal
    const signalId = await client.register(`${signals}-value`, JSON.stringify(contractSchema('journeySignal')));
    for (const m of out.messages) {
      const d = await decodeWire(m.value!);
      expect(m.value![0]).toBe(0);
      expect(d.id).toBe(signalId);
      expect(d.schema.name).toBe('journeylens.JourneySignal');
      expect(d.value).toMatchObject({ sessionId: expect.stringMatching(/^s\d$/), eventCount: expect.any(Number), riskBand: expect.stringMatching(/^(low|medium|high)$/) });
    }
    for (const m of alertsOut.messages) expect((await decodeWire(m.value!)).schema.name).toBe('journeylens.ChurnAlert');
    expect(await client.subjectCompatibility(`${signals}-value`)).toBe('BACKWARD');
    expect(await client.subjectCompatibility(`${alerts}-value`)).toBe('BACKWARD');

    const reasons = Object.fromEntries(dead.messages.map((m) => [String(m.key), [header(m, DLQ_HEADERS.errorCode), header(m, DLQ_HEADERS.errorMessage)]]));
    expect(reasons.unknown).toEqual(['unknown_schema_id', `schema id 987654 is neither in ingestion.schemas nor in the schema registry at ${registry!.ccompatUrl}.`]);
    expect(reasons.unreadable![0]).toBe('schema_incompatible');
    expect(reasons.unreadable![1]).toMatch(new RegExp(`^writer schema registry id ${unreadableId} cannot be read: .*cannot be read as journeylens.ClickEvent`));
    expect(app.processor.stats.dead).toBe(2);
    const lookups = Object.fromEntries((await app.metrics.schemaRegistryRequestsTotal.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(lookups).toEqual({ ok: 2, unknown: 1 });
  });

  it('dead-letters nothing while the registry is stopped mid-stream: the partition waits, paused, and processing resumes when it is back', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals, dlq], 1);
    const v1 = await client.register(`${input}-value`, JSON.stringify(producerSchema));
    const writer = avsc.Type.forSchema(producerSchema as avsc.Schema);
    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    await producer.send({ topic: input, messages: Array.from({ length: 5 }, (_, i) => ({ key: 'before', value: confluentFrame(v1, writer.toBuffer(event(i, 'before'))) })) });

    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    const dead = await collect(kafka, dlq);
    onTestFinished(() => dead.stop());
    const app = await processor({ input, signals, dlq });
    await out.waitFor((ms) => ms.some((m) => m.key?.toString() === 'u-before'), 60_000, 'a signal for the first session');

    // a second version of the producer's schema, registered but not fetched yet; then the registry goes away
    const v2Schema = { ...producerSchema, fields: [...producerSchema.fields, { name: 'referrer', type: ['null', 'string'], default: null }] };
    const v2 = await client.register(`${input}-value`, JSON.stringify(v2Schema));
    expect(v2).not.toBe(v1);
    await registry!.stop();
    const w2 = avsc.Type.forSchema(v2Schema as avsc.Schema);
    await producer.send({ topic: input, messages: Array.from({ length: 5 }, (_, i) => ({ key: 'during', value: confluentFrame(v2, w2.toBuffer({ ...event(10 + i, 'during'), referrer: 'https://x' })) })) });

    const metric = async (m: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string> = {}) =>
      (await m.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);
    // paused, and the registry retried (with backoff) at least 3 times, all without a dead letter
    for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 250))) {
      if ((await metric(app.metrics.partitionsPaused)) >= 1 && (await metric(app.metrics.schemaRegistryRequestsTotal, { outcome: 'unavailable' })) >= 3) break;
      if (Date.now() > deadline) throw new Error('the partition was not paused with the registry down');
    }
    expect(await metric(app.metrics.schemaRegistryUp)).toBe(0);
    expect(dead.messages).toHaveLength(0);
    expect(app.processor.stats.dead).toBe(0);
    expect(out.messages.some((m) => m.key?.toString() === 'u-during')).toBe(false);

    const restarted = Date.now();
    registry = await startRegistry();
    process.stderr.write(`[schema-registry] restarted on port ${port} with the same store in ${Date.now() - restarted} ms\n`);
    await out.waitFor((ms) => ms.some((m) => m.key?.toString() === 'u-during'), 90_000, 'signals for the records written while the registry was down');
    const during = await Promise.all(out.messages.filter((m) => m.key?.toString() === 'u-during').map((m) => decodeWire(m.value!)));
    expect(Math.max(...during.map((d) => d.value.eventCount as number))).toBeGreaterThan(0);
    expect(await metric(app.metrics.partitionsPaused)).toBe(0);
    expect(await metric(app.metrics.schemaRegistryUp)).toBe(1);
    expect(dead.messages).toHaveLength(0);
    expect(app.processor.stats.dead).toBe(0);
    // the restarted registry kept its ids (file-backed store)
    expect(JSON.parse((await client.schemaById(v2)).schema)).toMatchObject({ name: 'PageEvent' });
  });

  it('accepts a new risk band for old readers only because the enums have defaults (FORWARD check in the registry)', async () => {
    const signal = contractSchema('journeySignal') as { fields: { name: string; type: unknown }[] };
    const withBand = (s: typeof signal, symbols: string[], keepDefault: boolean) => ({
      ...s,
      fields: s.fields.map((f) => {
        if (f.name !== 'riskBand') return f;
        const { default: _d, ...band } = f.type as { default?: string };
        return { ...f, type: { ...band, symbols, ...(keepDefault ? { default: 'low' } : {}) } };
      }),
    });
    const bands = ['low', 'medium', 'high'];
    for (const [keepDefault, expected] of [
      [true, true],
      [false, false],
    ] as const) {
      const subject = `${uniqueName('forward')}-value`;
      await client.setSubjectCompatibility(subject, 'FORWARD');
      await client.register(subject, JSON.stringify(withBand(signal, bands, keepDefault)));
      // FORWARD: data written with the new version must be readable with the registered one
      expect(await client.isCompatible(subject, JSON.stringify(withBand(signal, [...bands, 'critical'], keepDefault))), `default kept: ${keepDefault}`).toBe(expected);
    }
    // and BACKWARD, the rule on journeylens' own subjects, takes the new band too
    const subject = `${uniqueName('backward')}-value`;
    await client.setSubjectCompatibility(subject, 'BACKWARD');
    await client.register(subject, JSON.stringify(signal));
    expect(await client.isCompatible(subject, JSON.stringify(withBand(signal, [...bands, 'critical'], true)))).toBe(true);
  });

  it('refuses to start with a wrong password or an untrusted certificate, naming the options', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals, dlq], 1);
    const wrong = processor({ input, signals, dlq }, {}, { JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD_FILE: '', JOURNEYLENS_SCHEMA_REGISTRY_PASSWORD: 'nope' });
    await expect(wrong).rejects.toBeInstanceOf(UserError);
    await expect(wrong).rejects.toThrow(/answered 401.*--schema-registry-user/);
    await expect(wrong).rejects.toMatchObject({ exitCode: 2 });
    // without --schema-registry-ca-file only the system's CAs are trusted, not the registry's self-signed certificate
    const untrusted = processor({ input, signals, dlq }, { schemaRegistryCaFile: undefined });
    await expect(untrusted).rejects.toThrow(/TLS: .*--schema-registry-ca-file/);
  });
});
