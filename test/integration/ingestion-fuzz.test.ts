// The ingestion fuzz on the real broker: a seeded fast-check sample of hostile records (arbitrary
// bytes and JSON, huge strings, deep nesting, NaN/Infinity/1e308/-0, Avro of other schemas,
// tombstones, valid events with duplicates) goes through `run` as users run it. The processor
// never stops (a sentinel event after them is still scored), and every record ends in exactly one
// of processed / duplicate / tombstone / dead letter: the counts add up to the records, the
// dead letters are exactly the records ingest refuses (matched by a header of their own), each
// with the reason ingest gives, and the Prometheus counters say the same.
import { type KafkaMessage } from 'kafkajs';
import fc from 'fast-check';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { compileIngestion, ingest } from '../../src/consumers/ingest.ts';
import { parseIngestionOptions } from '../../src/consumers/options.ts';
import { createLogger } from '../../src/log.ts';
import { DLQ_HEADERS } from '../../src/sinks/dead-letter.ts';
import { hostileRecord } from '../helpers/hostile-records.ts';
import { collect, createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 22);
const INDEX = 'x-fuzz-index';

describe('ingestion fuzz on the real broker', () => {
  it(`${RUNS} hostile records: the consumer never stops and each record ends in exactly one outcome`, async () => {
    const kafka = testKafka(brokers);
    const [input, signals, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals, dlq], 2);
    const t0 = Date.now() - 3_600_000;
    // below the broker's 1 MiB message limit, above ingestion's 4096-character strings
    const sample = fc.sample(hostileRecord({ t0, maxBytes: 200_000 }), { numRuns: RUNS, seed: SEED });

    // what ingest says of each record, on its own
    const local = compileIngestion(parseIngestionOptions({}));
    const expected = sample.map((h, i) => ingest({ topic: input, partition: 0, offset: BigInt(i), key: h.key === null ? null : Buffer.from(h.key), value: h.value, headers: {} }, local));
    const count = (k: string) => expected.filter((r) => r.kind === k).length;

    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    // small requests: a few values are hundreds of kilobytes
    let batch: { key: string | null; value: Buffer | null; headers: Record<string, string> }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length > 0) await producer.send({ topic: input, messages: batch });
      batch = [];
      bytes = 0;
    };
    for (const [i, h] of sample.entries()) {
      const size = h.value?.length ?? 0;
      if (bytes + size > 400_000) await flush();
      batch.push({ key: h.key, value: h.value, headers: { [INDEX]: String(i) } });
      bytes += size;
    }
    await flush();

    const flags = { brokers, input, signalsTopic: signals, dlqTopic: dlq, group: uniqueName('g'), outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100' };
    const seen: string[] = [];
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'error' }), onSignal: (s) => seen.push(s.sessionId) });
    onTestFinished(() => app.stop());
    let failed: unknown;
    app.done.catch((err: unknown) => (failed = err));

    const stats = app.processor.stats;
    const deadline = Date.now() + 180_000;
    while (stats.records < RUNS && failed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(failed).toBeUndefined();
    expect(stats.records).toBe(RUNS);

    // still consuming: a sentinel after the hostile records is scored and published
    await producer.send({ topic: input, messages: [{ key: 'fz-sentinel', value: JSON.stringify({ eventId: 'sentinel', sessionId: 'fz-sentinel', timestamp: t0 + 700_000, type: 'page_view' }) }] });
    const until = Date.now() + 60_000;
    while (!seen.includes('fz-sentinel') && failed === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(failed).toBeUndefined();
    expect(seen).toContain('fz-sentinel');

    // exactly one outcome per record
    const hostile = { records: RUNS, events: count('event'), tombstones: count('tombstone'), dead: count('dead') };
    expect(stats.records - 1).toBe(hostile.records);
    expect(stats.tombstones).toBe(hostile.tombstones);
    expect(stats.processed + stats.duplicates + stats.late).toBe(hostile.events + 1);
    expect(stats.processed + stats.duplicates + stats.late + stats.tombstones + stats.dead + stats.noConsent).toBe(stats.records);
    expect(stats.noConsent).toBe(0);

    // the dead letters are exactly the refused records (late events too), each once, with ingest's reason
    const out = await collect(kafka, dlq);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => ms.length >= stats.dead + stats.late, 60_000, 'every dead letter');
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    const byIndex = new Map<number, string>();
    for (const m of out.messages) {
      const i = Number(header(m, INDEX));
      expect(byIndex.has(i), `record ${i} dead-lettered twice`).toBe(false);
      byIndex.set(i, header(m, DLQ_HEADERS.errorCode) as string);
    }
    expect(byIndex.size).toBe(stats.dead + stats.late);
    expected.forEach((r, i) => {
      if (r.kind === 'dead') expect(byIndex.get(i), `record ${i} (${sample[i]!.kind})`).toBe(r.reason);
      else if (byIndex.has(i)) expect(byIndex.get(i)).toBe('late_event');
    });

    // the counters agree
    const metrics = await (await fetch(`${app.ops.url}/metrics`)).text();
    const total = [...metrics.matchAll(/^journeylens_events_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBe(stats.records);
    const kinds = new Map<string, number>();
    for (const h of sample) kinds.set(h.kind, (kinds.get(h.kind) ?? 0) + 1);
    process.stderr.write(
      `[fuzz] ${RUNS} records (seed ${SEED}): ${JSON.stringify(Object.fromEntries(kinds))}; processed ${stats.processed}, duplicates ${stats.duplicates}, late ${stats.late}, tombstones ${stats.tombstones}, dead ${stats.dead} (with the sentinel)\n`,
    );
  });
});
