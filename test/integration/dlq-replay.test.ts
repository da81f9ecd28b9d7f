// Dead letters on the real broker: Kafka Connect's error headers beside ours, and
// `journeylens dlq replay` (the built CLI, run as docs/operations.md writes it) re-injecting them
// after a fix, once: a second run, or a run with another filter, re-injects nothing twice.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaMessage } from 'kafkajs';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { confluentFrame } from '../../src/consumers/decode.ts';
import { clickEventType, schemasDir } from '../../src/contracts/schemas.ts';
import { createLogger } from '../../src/log.ts';
import { CONNECT_DLQ_HEADERS, DLQ_HEADERS } from '../../src/sinks/dead-letter.ts';
import { REPLAYED_FROM_HEADER } from '../../src/sinks/dead-letter-replay.ts';
import { codeBlocks } from '../helpers/docs.ts';
import { runCli } from '../helpers/cli.ts';
import { collect, createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const T0 = Date.UTC(2026, 10, 1, 12);
const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

function event(i: number, session: string) {
  return { eventId: `e-${i}`, sessionId: session, userId: null, timestamp: T0 + i * 1000, type: 'page_view', page: '/p', durationMs: 100, value: null, properties: {} };
}

/** The replay command exactly as docs/operations.md writes it, pointed at this test's broker and topics. */
function docReplayCommand(): string[] {
  const line = codeBlocks('docs/operations.md', 'sh')
    .flatMap((b) => b.split('\n'))
    .find((l) => l.startsWith('journeylens dlq replay '));
  expect(line).toBeDefined();
  return line!.split(/\s+/).slice(1);
}

async function processor(opts: { input: string; signals: string; dlq: string; group: string; schemaIds: number[] }) {
  const dir = mkdtempSync(join(tmpdir(), 'jl-replay-'));
  const configFile = join(dir, 'config.json');
  const schemas = Object.fromEntries(opts.schemaIds.map((id) => [String(id), join(schemasDir(), 'click-event.avsc')]));
  writeFileSync(configFile, JSON.stringify({ ingestion: { format: 'confluent', schemas } }));
  const flags = { brokers, input: opts.input, signalsTopic: opts.signals, dlqTopic: opts.dlq, group: opts.group, outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100', config: configFile };
  const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: 'error' }) });
  onTestFinished(() => app.stop());
  return app;
}

describe('dead letters and journeylens dlq replay (real broker, built CLI)', () => {
  it('dead-letters with Connect headers, replays a reason once after the fix, then the rest, and never twice', { timeout: 240_000 }, async () => {
    const kafka = testKafka(brokers);
    const [input, signals, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals], 3);
    await createTopics(kafka, [dlq], 2);
    const type = clickEventType();
    const group = uniqueName('g');

    // 20 records with the known schema id 1, 6 with id 2 (registered later: "the fix"), 3 that are not Avro at all
    const producer = kafka.producer();
    await producer.connect();
    const messages = [
      ...Array.from({ length: 20 }, (_, i) => ({ key: `ok-${i % 4}`, value: confluentFrame(1, type.toBuffer(event(i, `ok-${i % 4}`))) })),
      ...Array.from({ length: 6 }, (_, i) => ({ key: `v2-${i}`, value: confluentFrame(2, type.toBuffer(event(100 + i, `v2-${i}`))), headers: { traceparent: `00-trace-${i}-01` } })),
      ...Array.from({ length: 3 }, (_, i) => ({ key: `junk-${i}`, value: Buffer.from(JSON.stringify(event(200 + i, `junk-${i}`))) })),
    ];
    await producer.send({ topic: input, messages });
    // One event 32 min later on each partition: the ok sessions close (30 min gap), so the group's
    // commit moves past everything above, as it would in a live stream before anyone replays.
    // The replayed events (at +100 s) stay within the gap of that watermark: not late.
    const closers = [0, 1, 2].map((partition) => ({ partition, key: `closer-${partition}`, value: confluentFrame(1, type.toBuffer({ ...event(300 + partition, `closer-${partition}`), timestamp: T0 + 32 * 60_000 })) }));
    await producer.send({ topic: input, messages: closers });
    await producer.disconnect();

    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    const first = await processor({ input, signals, dlq, group, schemaIds: [1] });
    const dead = await collect(kafka, dlq);
    onTestFinished(() => dead.stop());
    await dead.waitFor((ms) => ms.length >= 9, 60_000, '9 dead letters');
    const finals = () => out.messages.filter((m) => JSON.parse(String(m.value)).final === true).length;
    await out.waitFor(() => finals() >= 4, 60_000, 'final signals of the 4 ok sessions');
    // the closing tick committed before the stop; stop() delivers and commits what is in flight
    await first.stop();

    // ours and Kafka Connect's headers, the same facts
    const unknown = dead.messages.filter((m) => header(m, DLQ_HEADERS.errorCode) === 'unknown_schema_id');
    expect(unknown).toHaveLength(6);
    expect(dead.messages.filter((m) => header(m, DLQ_HEADERS.errorCode) === 'bad_magic_byte')).toHaveLength(3);
    for (const m of dead.messages) {
      expect(header(m, CONNECT_DLQ_HEADERS.topic)).toBe(input);
      expect(header(m, CONNECT_DLQ_HEADERS.partition)).toBe(header(m, DLQ_HEADERS.sourcePartition));
      expect(header(m, CONNECT_DLQ_HEADERS.offset)).toBe(header(m, DLQ_HEADERS.sourceOffset));
      expect(header(m, CONNECT_DLQ_HEADERS.stage)).toBe('VALUE_CONVERTER');
      expect(header(m, CONNECT_DLQ_HEADERS.connectorName)).toBe('journeylens');
      expect(header(m, CONNECT_DLQ_HEADERS.exceptionClass)).toBe(`journeylens.${header(m, DLQ_HEADERS.errorCode)}`);
      expect(header(m, CONNECT_DLQ_HEADERS.exceptionMessage)).toBe(header(m, DLQ_HEADERS.errorMessage));
    }

    const inputTopic = await collect(kafka, input);
    onTestFinished(() => inputTopic.stop());
    await inputTopic.waitFor((ms) => ms.length >= messages.length + 3, 30_000, 'the original input');
    const replayedRecords = () => inputTopic.messages.filter((m) => m.headers?.[REPLAYED_FROM_HEADER] !== undefined);

    // the documented command: unknown_schema_id only
    const args = docReplayCommand().map((a) => (a === 'kafka:9092' ? brokers : a === 'journeylens.dlq' ? dlq : a === 'clicks' ? input : a));
    const run1 = await runCli(args);
    expect(run1.code, run1.stderr).toBe(0);
    expect(run1.stdout.trim()).toBe(
      `replayed 6 of 9 dead letters read from ${dlq} into ${input} (unknown_schema_id 6); skipped 0 replayed by an earlier run and 3 with another reason than unknown_schema_id. ` +
        `Progress is kept in consumer group journeylens-dlq-replay.${dlq}.${input}.unknown_schema_id.`,
    );
    await inputTopic.waitFor((ms) => ms.length >= messages.length + 3 + 6, 30_000, 'the 6 replayed records');
    for (const r of replayedRecords()) {
      const from = String(r.headers?.[REPLAYED_FROM_HEADER]);
      const original = dead.messages.find((m) => m.key?.toString() === r.key?.toString())!;
      expect(header(original, DLQ_HEADERS.errorCode)).toBe('unknown_schema_id');
      expect(Buffer.compare(r.value!, original.value!)).toBe(0);
      expect(from).toMatch(new RegExp(`^${dlq}/[01]/\\d+$`));
      expect(Object.keys(r.headers ?? {}).filter((h) => h.startsWith('x-journeylens-error') || h.startsWith('x-journeylens-source') || h.startsWith('__connect.'))).toEqual([]);
      expect(header(r, 'traceparent')).toMatch(/^00-trace-\d-01$/);
    }

    // again: nothing more
    const run2 = await runCli([...args, '--json']);
    expect(run2.code).toBe(0);
    expect(JSON.parse(run2.stdout)).toMatchObject({ replayed: 0, read: 0 });

    // everything else: the 3 not-Avro records; the 6 are known to be done already
    const all = args.filter((a, i) => a !== '--reason' && args[i - 1] !== '--reason');
    const run3 = await runCli([...all, '--json']);
    expect(run3.code).toBe(0);
    expect(JSON.parse(run3.stdout)).toMatchObject({ reason: 'all', read: 9, replayed: 3, skippedAlreadyReplayed: 6, skippedOtherReason: 0, replayedByReason: { bad_magic_byte: 3 } });
    const run4 = await runCli([...all, '--json']);
    expect(JSON.parse(run4.stdout)).toMatchObject({ replayed: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(replayedRecords()).toHaveLength(9);
    expect(new Set(replayedRecords().map((r) => String(r.headers?.[REPLAYED_FROM_HEADER]))).size).toBe(9);

    // the fix: schema id 2 is known now; the same group continues after its commit and reads the replayed records
    const second = await processor({ input, signals, dlq, group, schemaIds: [1, 2] });
    await out.waitFor((ms) => new Set(ms.map((m) => JSON.parse(String(m.value)).sessionId).filter((s: string) => s.startsWith('v2-'))).size === 6, 60_000, 'signals for the 6 replayed sessions');
    // the not-Avro records fail again: new dead letters, for a later run
    await dead.waitFor((ms) => ms.length >= 12, 30_000, 'the 3 records failing again');
    expect(second.processor.stats.dead).toBe(3);
  });
});
