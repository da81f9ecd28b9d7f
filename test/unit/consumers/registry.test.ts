// Ingestion with writer schemas from a schema registry, on a stand-in for the registry's client
// (the real registry is in test/integration/schema-registry.test.ts): what each answer does to a
// record, and how the gate pauses and resumes a partition while the registry cannot answer.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import avsc from 'avsc';
import { compileIngestion, ingest } from '../../../src/consumers/ingest.ts';
import { parseIngestionOptions } from '../../../src/consumers/options.ts';
import { SchemaGate, UNKNOWN_ID_TTL_MS } from '../../../src/consumers/registry.ts';
import { clickEventType, contractSchema } from '../../../src/contracts/schemas.ts';
import { createLogger } from '../../../src/log.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { type RegisteredSchema, SchemaNotFoundError, type SchemaRegistryClient, SchemaRegistryUnavailableError } from '../../../src/schema-registry/client.ts';
import { confluentFrame } from '../../../src/schema-registry/wire-format.ts';
import { NOW, record, validEvent } from './fixtures.ts';

/** Answers by id: a schema, "not found", or "unavailable" while `down` is set. Counts the lookups. */
function registryStub(schemas: Record<number, RegisteredSchema>) {
  const stub = {
    down: false,
    lookups: [] as number[],
    target: 'http://registry.test',
    async schemaById(id: number): Promise<RegisteredSchema> {
      stub.lookups.push(id);
      if (stub.down) throw new SchemaRegistryUnavailableError('GET schemas/ids: ECONNREFUSED');
      const s = schemas[id];
      if (s === undefined) throw new SchemaNotFoundError(id, stub.target);
      return s;
    },
  };
  return stub;
}

const avro = (schema: unknown): RegisteredSchema => ({ schema: JSON.stringify(schema), schemaType: 'AVRO' });
const producerSchema = { ...contractSchema('clickEvent'), name: 'Click', namespace: 'com.acme' };
const incompatible = { type: 'record', name: 'Click', fields: [{ name: 'sessionId', type: 'int' }] };

function setup(stub: ReturnType<typeof registryStub>, clock = { now: NOW }) {
  const metrics = createMetrics(new Registry());
  const ingestion = compileIngestion(parseIngestionOptions({ format: 'confluent' }, 'ingestion', { schemaRegistry: true }), {
    now: () => clock.now,
    schemaRegistry: { client: stub as unknown as SchemaRegistryClient, metrics },
  });
  return { ingestion, metrics, decoder: ingestion.forTopic('clicks').decoder };
}

const framed = (id: number) => confluentFrame(id, avsc.Type.forSchema(producerSchema as avsc.Schema).toBuffer(validEvent));

describe('confluent input with a schema registry', () => {
  it('decodes by the id the registry knows, resolving the producer schema to ClickEvent, and fetches each id once', async () => {
    const stub = registryStub({ 7: avro(producerSchema) });
    const { decoder, ingestion } = setup(stub);
    const values = [framed(7), framed(7), null];
    await decoder.prepare!(values);
    await decoder.prepare!(values);
    expect(stub.lookups).toEqual([7]);
    expect(ingest(record(framed(7)), ingestion)).toEqual({ kind: 'event', event: validEvent });
  });

  it('dead-letters an id the registry does not know (unknown_schema_id), and asks again after a while', async () => {
    const stub = registryStub({});
    const clock = { now: NOW };
    const { decoder, ingestion, metrics } = setup(stub, clock);
    await decoder.prepare!([framed(9)]);
    expect(ingest(record(framed(9)), ingestion)).toEqual({ kind: 'dead', reason: 'unknown_schema_id', message: 'schema id 9 is neither in ingestion.schemas nor in the schema registry at http://registry.test.' });
    await decoder.prepare!([framed(9)]);
    expect(stub.lookups).toEqual([9]);
    clock.now += UNKNOWN_ID_TTL_MS;
    await decoder.prepare!([framed(9)]);
    expect(stub.lookups).toEqual([9, 9]);
    expect((await metrics.schemaRegistryRequestsTotal.get()).values.map((v) => [v.labels.outcome, v.value])).toEqual([['unknown', 2]]);
  });

  it('dead-letters with one deterministic reason a writer schema that cannot be read as ClickEvent, or that is not Avro', async () => {
    const stub = registryStub({ 3: avro(incompatible), 4: { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' } });
    const { decoder, ingestion } = setup(stub);
    await decoder.prepare!([framed(3), framed(4)]);
    const a = ingest(record(framed(3)), ingestion);
    const b = ingest(record(framed(3)), ingestion);
    expect(a).toMatchObject({ kind: 'dead', reason: 'schema_incompatible' });
    expect(a).toEqual(b);
    expect((a as { message: string }).message).toMatch(/^writer schema registry id 3 cannot be read: .*cannot be read as journeylens.ClickEvent/);
    expect(ingest(record(framed(4)), ingestion)).toEqual({ kind: 'dead', reason: 'schema_incompatible', message: 'schema id 4 in the schema registry is a PROTOBUF schema; journeylens reads Avro.' });
  });

  it('rejects prepare() while the registry is down, caching nothing, so nothing is dead-lettered for it', async () => {
    const stub = registryStub({ 7: avro(producerSchema) });
    const { decoder, ingestion, metrics } = setup(stub);
    stub.down = true;
    await expect(decoder.prepare!([framed(7)])).rejects.toBeInstanceOf(SchemaRegistryUnavailableError);
    expect((await metrics.schemaRegistryUp.get()).values[0]?.value).toBe(0);
    stub.down = false;
    await decoder.prepare!([framed(7)]);
    expect(ingest(record(framed(7)), ingestion)).toMatchObject({ kind: 'event' });
  });

  it('keeps the ids listed in ingestion.schemas local: no request for them', async () => {
    const stub = registryStub({});
    const ingestion = compileIngestion(parseIngestionOptions({ format: 'confluent', schemas: { '1': 'click-event-v0.avsc' } }, 'ingestion', { schemaRegistry: true }), {
      now: () => NOW,
      baseDir: new URL('../../fixtures/schemas/', import.meta.url).pathname,
      schemaRegistry: { client: stub as unknown as SchemaRegistryClient },
    });
    await ingestion.forTopic('clicks').decoder.prepare!([confluentFrame(1, Buffer.alloc(3))]);
    expect(stub.lookups).toEqual([]);
  });
});

describe('SchemaGate', () => {
  afterEach(() => vi.useRealTimers());

  it('pauses the partition while the registry is down, retries with backoff, then resumes it once and admits the batch', async () => {
    vi.useFakeTimers();
    const stub = registryStub({ 7: avro(producerSchema) });
    const { ingestion, metrics } = setup(stub);
    const calls: string[] = [];
    const consumer = {
      pause: (t: { topic: string; partitions: number[] }[]) => calls.push(`pause ${t.map((x) => `${x.topic}/${x.partitions}`)}`),
      resume: (t: { topic: string; partitions: number[] }[]) => calls.push(`resume ${t.map((x) => `${x.topic}/${x.partitions}`)}`),
    };
    const gate = new SchemaGate(ingestion, consumer, { log: createLogger({ level: 'silent' }), metrics, backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 1 });
    const batch = (partition: number) => [{ topic: 'clicks', partition, value: framed(7) }];
    stub.down = true;
    expect(await gate.admit(batch(0))).toBe(false);
    // while it is known to be down, another partition waits too, without asking again
    expect(await gate.admit(batch(2))).toBe(false);
    expect(stub.lookups).toHaveLength(1);
    expect(calls).toEqual(['pause clicks/0', 'pause clicks/2']);
    expect(gate.waiting).toBe(2);
    // retries at 100, 200, 400, 800, 1000, 1000… ms
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(400);
    expect(stub.lookups).toHaveLength(4);
    stub.down = false;
    await vi.advanceTimersByTimeAsync(800);
    expect(calls).toEqual(['pause clicks/0', 'pause clicks/2', 'resume clicks/0,2']);
    expect(gate.waiting).toBe(0);
    expect((await metrics.schemaRegistryUp.get()).values[0]?.value).toBe(1);
    // the fetched batch decodes from the cache now
    expect(await gate.admit(batch(0))).toBe(true);
    expect(stub.lookups).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stub.lookups).toHaveLength(5);
    gate.stop();
  });

  it('lets through at once what needs no registry (another format, known ids) and forgets revoked partitions', async () => {
    const stub = registryStub({});
    const { ingestion } = setup(stub);
    const consumer = { pause: vi.fn(), resume: vi.fn() };
    const gate = new SchemaGate(ingestion, consumer, { log: createLogger({ level: 'silent' }), backoffBaseMs: 10_000 });
    expect(await gate.admit([{ topic: 'clicks', partition: 0, value: Buffer.from('not confluent') }])).toBe(true);
    stub.down = true;
    expect(await gate.admit([{ topic: 'clicks', partition: 1, value: framed(8) }])).toBe(false);
    gate.revoke([{ topic: 'clicks', partition: 1 }]);
    expect(gate.waiting).toBe(0);
    gate.stop();
    expect(consumer.resume).not.toHaveBeenCalled();
  });
});

describe('enum defaults in the output schemas', () => {
  it('let a reader on the current schema read a signal with a band added later, as the default', () => {
    const current = contractSchema('journeySignal') as { fields: { name: string; type: unknown }[] };
    const band = current.fields.find((f) => f.name === 'riskBand')!.type as { symbols: string[]; default?: string };
    expect(band.default).toBe('low');
    const next = { ...current, fields: current.fields.map((f) => (f.name === 'riskBand' ? { ...f, type: { ...band, symbols: [...band.symbols, 'critical'] } } : f)) };
    const writer = avsc.Type.forSchema(next as avsc.Schema);
    const reader = avsc.Type.forSchema(current as avsc.Schema);
    const signal = { signalId: 's', sessionId: 'x', userId: null, eventCount: 1, windowStart: 0, windowEnd: 0, clusterId: 1, clusterLabel: 'c', distance: 0, novel: false, churnRisk: 0.99, riskBand: 'critical', modelVersion: 'm', emittedAt: 0, final: false };
    const read = reader.fromBuffer(writer.toBuffer(signal), reader.createResolver(writer)) as { riskBand: string };
    expect(read.riskBand).toBe('low');
    // without the default the same reader cannot resolve the new writer at all
    const noDefault = avsc.Type.forSchema({ ...current, fields: current.fields.map((f) => (f.name === 'riskBand' ? { ...f, type: { ...band, default: undefined } } : f)) } as avsc.Schema);
    expect(() => noDefault.createResolver(writer)).toThrow();
    expect(clickEventType().name).toBe('journeylens.ClickEvent');
  });
});
