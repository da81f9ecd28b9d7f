// Ingestion against the real broker: every unusable record lands in the DLQ with its reason and
// its original bytes while the processor keeps running, and a large mixed stream reconciles:
// every input offset is accounted for exactly once, and the Prometheus counters agree.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaMessage } from 'kafkajs';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { confluentFrame } from '../../src/consumers/decode.ts';
import { createLogger } from '../../src/log.ts';
import { clickEventType, schemasDir } from '../../src/contracts/schemas.ts';
import { DLQ_HEADERS } from '../../src/sinks/dead-letter.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const T0 = Date.UTC(2026, 10, 1, 12);

function event(i: number, session = `s-${i % 50}`) {
  return { eventId: `e-${i}`, sessionId: session, userId: `u-${i % 17}`, timestamp: T0 + i * 10, type: 'page_view', page: '/p', durationMs: 500, value: null, properties: {} };
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** A processor in this process, on fresh topics, with a config file for the Avro topic. */
async function startProcessor(opts: { jsonTopic: string; avroTopic: string; signals: string; dlq: string; maxMessageBytes?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'jl-ingest-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ingestion: {
        limits: { maxMessageBytes: opts.maxMessageBytes ?? 4096 },
        perTopic: { [opts.avroTopic]: { format: 'confluent', schemas: { '1': join(schemasDir(), 'click-event.avsc') } } },
      },
    }),
  );
  const flags = {
    brokers,
    input: `${opts.jsonTopic},${opts.avroTopic}`,
    signalsTopic: opts.signals,
    dlqTopic: opts.dlq,
    group: uniqueName('g'),
    outputFormat: 'json',
    metricsPort: '0',
    metricsHost: '127.0.0.1',
    tickMs: '100',
    config: configFile,
  };
  const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'error') as 'error' }) });
  onTestFinished(() => app.stop());
  return app;
}

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

describe('ingestion on the real broker', () => {
  it('dead-letters each kind of bad input with its reason and original bytes, and keeps processing', async () => {
    const kafka = testKafka(brokers);
    const [jsonTopic, avroTopic, signals, dlq] = [uniqueName('clicks'), uniqueName('avro'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [jsonTopic, avroTopic, signals, dlq], 1);
    const avroBody = clickEventType().toBuffer(event(900, 'avro-session'));
    const bad: [string, string, Buffer | null][] = [
      ['not_json', jsonTopic, Buffer.from([0xc3, 0x28, 0x7b])],
      ['not_object', jsonTopic, Buffer.from('[1,2,3]')],
      ['missing_field', jsonTopic, json({ ...event(1), sessionId: undefined })],
      ['wrong_type', jsonTopic, json({ ...event(2), timestamp: 'noon' })],
      ['timestamp_future', jsonTopic, json({ ...event(3), timestamp: Date.UTC(2099, 0, 1) })],
      ['empty_value', jsonTopic, Buffer.alloc(0)],
      ['too_large', jsonTopic, json({ ...event(4), page: 'x'.repeat(5000) })],
      ['unknown_schema_id', avroTopic, confluentFrame(77, avroBody)],
      ['avro_decode_error', avroTopic, confluentFrame(1, avroBody.subarray(0, 9))],
    ];
    const app = await startProcessor({ jsonTopic, avroTopic, signals, dlq });
    const dead = await collect(kafka, dlq);
    onTestFinished(() => dead.stop());
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    // each bad record is followed by a good one, so "keeps processing" is observed every time
    for (const [i, [, topic, value]] of bad.entries()) {
      await produce(kafka, topic, [{ key: `bad-${i}`, value }]);
      const good = topic === avroTopic ? confluentFrame(1, clickEventType().toBuffer(event(100 + i, `after-${i}`))) : json(event(100 + i, `after-${i}`));
      await produce(kafka, topic, [{ key: `after-${i}`, value: good }]);
    }
    // a tombstone is counted and skipped; a duplicate eventId is counted and changes nothing
    await produce(kafka, jsonTopic, [{ key: 'tomb', value: null }]);
    await produce(kafka, jsonTopic, [{ key: 'after-0', value: json(event(100, 'after-0')) }]);

    await dead.waitFor((ms) => ms.length >= bad.length, 30_000, 'one dead letter per bad input');
    await out.waitFor((ms) => new Set(ms.map((m) => JSON.parse(String(m.value)).sessionId)).size >= bad.length, 30_000, 'signals for the good records after each bad one');
    await new Promise((r) => setTimeout(r, 500));

    // Kafka orders records within a partition only: the two input topics interleave freely, so
    // the dead letters are in input order per source topic, and each carries its own record
    for (const topic of [jsonTopic, avroTopic]) {
      const fromTopic = dead.messages.filter((m) => header(m, DLQ_HEADERS.sourceTopic) === topic);
      expect(fromTopic.map((m) => header(m, DLQ_HEADERS.errorCode))).toEqual(bad.filter(([, t]) => t === topic).map(([reason]) => reason));
    }
    expect(dead.messages).toHaveLength(bad.length);
    for (const m of dead.messages) {
      const i = Number(/^bad-(\d+)$/.exec(String(m.key))?.[1]);
      const [reason, topic, value] = bad[i]!;
      expect(header(m, DLQ_HEADERS.errorCode)).toBe(reason);
      expect(Buffer.compare(m.value ?? Buffer.alloc(0), value ?? Buffer.alloc(0))).toBe(0);
      expect(header(m, DLQ_HEADERS.sourceTopic)).toBe(topic);
      expect(header(m, DLQ_HEADERS.sourcePartition)).toBe('0');
      expect(header(m, DLQ_HEADERS.sourceOffset)).toMatch(/^\d+$/);
      expect(header(m, DLQ_HEADERS.errorMessage)?.length).toBeGreaterThan(0);
    }
    expect(app.processor.stats.tombstones).toBe(1);
    expect(app.processor.stats.duplicates).toBe(1);
    expect(app.processor.stats.dead).toBe(bad.length);
    const dupSignals = out.messages.filter((m) => JSON.parse(String(m.value)).sessionId === 'after-0');
    expect(Math.max(...dupSignals.map((m) => JSON.parse(String(m.value)).eventCount))).toBe(1);
  });

  it('reconciles 100,000 records with 5% bad ones: in = processed + duplicate + tombstone + dead-lettered, and the counters agree', async () => {
    const kafka = testKafka(brokers);
    const [jsonTopic, avroTopic, signals, dlq] = [uniqueName('clicks'), uniqueName('avro'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [jsonTopic, avroTopic, signals, dlq], 3);
    const total = Number(process.env.RECONCILE_TOTAL ?? 100_000);
    const jsonMsgs: { key: string; value: Buffer | null }[] = [];
    const avroMsgs: { key: string; value: Buffer | null }[] = [];
    const expected = { processed: 0, duplicate: 0, tombstone: 0, dead: 0 };
    const type = clickEventType();
    for (let i = 0; i < total; i++) {
      const e = event(i, `s-${i % 2000}`);
      const k = i % 100;
      const toAvro = i % 4 === 0;
      const target = toAvro ? avroMsgs : jsonMsgs;
      let value: Buffer | null;
      let key = e.sessionId;
      if (k === 0) {
        value = toAvro ? confluentFrame(42, type.toBuffer(e)) : Buffer.from('{not json');
        expected.dead++;
      } else if (k === 1) {
        value = json({ ...e, timestamp: Date.UTC(2099, 0, 1) });
        if (toAvro) value = confluentFrame(1, type.toBuffer(e).subarray(0, 5));
        expected.dead++;
      } else if (k === 2) {
        value = Buffer.alloc(0);
        expected.dead++;
      } else if (k === 3) {
        value = json([e]);
        expected.dead++;
      } else if (k === 4) {
        value = json({ ...e, sessionId: 7 as unknown as string, eventId: undefined });
        expected.dead++;
      } else if (k === 5) {
        value = null;
        expected.tombstone++;
      } else if (k === 6 && i > 200) {
        // an exact repeat of an earlier event of an open session, on the same topic and partition
        // i − 96 is an ordinary event (i − 96 ≡ 10 mod 100) on the same topic (96 ≡ 0 mod 4)
        const prev = event(i - 96, `s-${(i - 96) % 2000}`);
        value = toAvro ? confluentFrame(1, type.toBuffer(prev)) : json(prev);
        key = prev.sessionId;
        expected.duplicate++;
      } else {
        value = toAvro ? confluentFrame(1, type.toBuffer(e)) : json(e);
        expected.processed++;
      }
      target.push({ key, value });
    }
    await produce(kafka, jsonTopic, jsonMsgs);
    await produce(kafka, avroTopic, avroMsgs);

    const app = await startProcessor({ jsonTopic, avroTopic, signals, dlq });
    const deadline = Date.now() + 180_000;
    const s = app.processor.stats;
    let lastLog = Date.now();
    const accounted = () => s.processed + s.duplicates + s.tombstones + s.dead + s.late;
    while (accounted() < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        process.stderr.write(`[reconcile] ${s.records}/${total} records, ${s.ticks} ticks, ${s.commits} commits\n`);
      }
    }
    // nothing more may arrive or be counted twice
    await new Promise((r) => setTimeout(r, 1000));

    expect(s.records).toBe(total);
    expect(s.processed + s.duplicates + s.tombstones + s.dead + s.late).toBe(total);
    expect({ processed: s.processed, duplicate: s.duplicates, tombstone: s.tombstones, dead: s.dead }).toEqual(expected);

    const counters = await app.metrics.eventsTotal.get();
    const sum = (outcome: string) => counters.values.filter((v) => v.labels.outcome === outcome).reduce((a, v) => a + v.value, 0);
    expect({ processed: sum('processed'), duplicate: sum('duplicate'), tombstone: sum('tombstone'), dead: sum('dlq') }).toEqual(expected);
    const dlqByReason = await app.metrics.dlqTotal.get();
    expect(dlqByReason.values.reduce((a, v) => a + v.value, 0)).toBe(expected.dead);
    process.stderr.write(`[reconcile] ${total} records: ${JSON.stringify(expected)}\n`);
  });
});

describe('a foreign clickstream through a mapping given only in config (real broker)', () => {
  it('reads nested fields and seconds timestamps into sessions, with no code', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('foreign'), uniqueName('signals')];
    await createTopics(kafka, [input, signals], 1);
    const t0s = T0 / 1000;
    const foreign = Array.from({ length: 30 }, (_, i) => ({
      id: `x-${i}`,
      session: `sess-${i % 3}`,
      ts: t0s + i * 2.5,
      event: { action: i % 2 === 0 ? 'view' : 'tap', screen: `/screen/${i % 4}` },
      user: { id: 1000 + (i % 3) },
    }));
    await produce(kafka, input, foreign.map((f) => ({ key: f.session, value: JSON.stringify(f) })));

    const dir = mkdtempSync(join(tmpdir(), 'jl-foreign-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        brokers,
        input,
        signalsTopic: signals,
        outputFormat: 'json',
        ingestion: { mapping: { eventId: 'id', sessionId: 'session', userId: 'user.id', timestamp: { path: 'ts', unit: 's' }, type: 'event.action', page: 'event.screen' } },
      }),
    );
    const flags = { config: configFile, group: uniqueName('g'), metricsPort: '0', metricsHost: '127.0.0.1' };
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: 'error' }) });
    onTestFinished(() => app.stop());
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => ms.filter((m) => JSON.parse(String(m.value)).eventCount === 10).length >= 3, 30_000, 'a 10-event signal for each of the 3 sessions');

    expect(app.processor.stats.dead).toBe(0);
    const last = new Map<string, { userId: string; windowStart: number; windowEnd: number; eventCount: number }>();
    for (const m of out.messages) {
      const s = JSON.parse(String(m.value));
      if (s.eventCount === 10) last.set(s.sessionId, s);
    }
    expect([...last.keys()].sort()).toEqual(['sess-0', 'sess-1', 'sess-2']);
    // seconds were read as seconds: session 0 spans events 0, 3, …, 27 → 27 × 2.5 s
    expect(last.get('sess-0')).toMatchObject({ userId: '1000', windowStart: T0, windowEnd: T0 + 27 * 2500 });
  });
});
