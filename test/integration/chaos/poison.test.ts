// Scenario 4, poison input: random bytes and mutated JSON and Avro (Confluent frames) interleaved
// with valid traffic on the same partitions. The processor must not crash, every record must be
// accounted for (in = processed + duplicates + tombstones + dead-lettered + late), every dead
// letter must be on the DLQ topic, and the valid sessions must reach their full event counts.
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../../src/config.ts';
import { confluentFrame } from '../../../src/consumers/decode.ts';
import { createLogger } from '../../../src/log.ts';
import { clickEventType, schemasDir } from '../../../src/contracts/schemas.ts';
import { Rng } from '../../../src/util/prng.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../../helpers/kafka.ts';
import { maxCounts, parseSignals, report, size, tempDir, waitUntil, writeJson } from './chaos.ts';

const brokers = inject('kafkaBrokers');

type Msg = { key: string | null; value: Buffer | null };

function mutate(rng: Rng, bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  switch (rng.int(0, 3)) {
    case 0: {
      // flip a few bytes anywhere (header, lengths, digits, quotes)
      for (let n = rng.int(1, 3); n > 0; n--) {
        const i = rng.int(0, b.length - 1);
        b[i] = (b[i] as number) ^ rng.int(1, 255);
      }
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(0, b.length - 1));
    case 2: {
      const at = rng.int(0, b.length);
      return Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 8)), b.subarray(at)]);
    }
    default: {
      // overwrite one byte with a structural character
      const i = rng.int(0, b.length - 1);
      b[i] = rng.pick([0x22, 0x7b, 0x7d, 0x2c, 0x3a, 0x00, 0x80, 0xff]);
      return b;
    }
  }
}

describe('chaos: poison input (scenario 4)', () => {
  it('survives random and mutated JSON/Avro records interleaved with valid traffic, and accounts for every record', async () => {
    const kafka = testKafka(brokers);
    const [jsonTopic, avroTopic, signals, dlq] = [uniqueName('poison-json'), uniqueName('poison-avro'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [jsonTopic, avroTopic, signals, dlq], 3);

    const poisonCount = size(10_000, 100_000);
    const validCount = size(5_000, 50_000);
    const sessions = size(40, 500);
    const rng = new Rng(20261122);
    const type = clickEventType();
    // Event time close to the clock, so mutated timestamps cannot close the valid sessions early:
    // anything more than 5 minutes ahead is refused as timestamp_future, and the gap is 30 minutes.
    const t0 = Date.now() - 10 * 60_000;
    const step = Math.floor((9 * 60_000) / validCount);
    const ev = (id: string, session: string, ts: number) => ({ eventId: id, sessionId: session, userId: `u-${session}`, timestamp: ts, type: 'page_view', page: '/p', durationMs: 800, value: null, properties: {} });

    const byTopic: Record<string, Msg[]> = { [jsonTopic]: [], [avroTopic]: [] };
    const expectedCount = new Map<string, number>();
    const kinds = { valid: 0, randomBytes: 0, mutatedJson: 0, mutatedAvro: 0, tombstones: 0 };
    let v = 0;
    let p = 0;
    while (v < validCount || p < poisonCount) {
      const ts = t0 + v * step;
      if (v < validCount && (p >= poisonCount || rng.next() < validCount / (validCount + poisonCount))) {
        const s = v % sessions;
        const session = `ok-${s}`;
        const e = ev(`ok-${v}`, session, ts);
        const topic = s % 2 === 0 ? jsonTopic : avroTopic;
        byTopic[topic]!.push({ key: session, value: topic === jsonTopic ? Buffer.from(JSON.stringify(e)) : confluentFrame(1, type.toBuffer(e)) });
        expectedCount.set(session, (expectedCount.get(session) ?? 0) + 1);
        kinds.valid++;
        v++;
        continue;
      }
      const session = `mut-${p % sessions}`;
      const base = ev(`m-${p}`, session, ts);
      const topic = rng.next() < 0.5 ? jsonTopic : avroTopic;
      const r = rng.next();
      let value: Buffer | null;
      if (r < 0.3) {
        value = rng.bytes(rng.int(0, 300));
        kinds.randomBytes++;
      } else if (r < 0.98) {
        // the other topic's format is poison too: Avro bytes on the JSON topic and the reverse
        const asJson = rng.next() < 0.5;
        value = mutate(rng, asJson ? Buffer.from(JSON.stringify(base)) : confluentFrame(1, type.toBuffer(base)));
        if (asJson) kinds.mutatedJson++;
        else kinds.mutatedAvro++;
      } else {
        value = null;
        kinds.tombstones++;
      }
      byTopic[topic]!.push({ key: rng.next() < 0.2 ? null : session, value });
      p++;
    }
    const total = validCount + poisonCount;

    const dir = tempDir('poison');
    const config = writeJson(join(dir, 'config.json'), {
      ingestion: { perTopic: { [avroTopic]: { format: 'confluent', schemas: { '1': join(schemasDir(), 'click-event.avsc') } } } },
    });
    const flags = { brokers, input: `${jsonTopic},${avroTopic}`, signalsTopic: signals, dlqTopic: dlq, group: uniqueName('g'), outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100', config };
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'error') as 'error' }) });
    onTestFinished(() => app.stop());
    let crashed: unknown;
    app.done.catch((err: unknown) => (crashed = err));
    const dead = await collect(kafka, dlq);
    onTestFinished(() => dead.stop());
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    const started = Date.now();
    await Promise.all([produce(kafka, jsonTopic, byTopic[jsonTopic]!), produce(kafka, avroTopic, byTopic[avroTopic]!)]);
    const s = app.processor.stats;
    const accounted = () => s.processed + s.duplicates + s.tombstones + s.dead + s.late;
    await waitUntil(() => crashed !== undefined || accounted() >= total, size(60_000, 600_000), `all ${total} records accounted for`);
    expect(crashed).toBeUndefined();
    await out.waitFor(
      (ms) => {
        const best = maxCounts(parseSignals(ms));
        return [...expectedCount].every(([k, n]) => best.get(k) === n);
      },
      size(30_000, 300_000),
      'every valid session at its full event count',
    );
    await dead.waitFor((ms) => ms.length >= s.dead + s.late, size(30_000, 300_000), 'one DLQ record per dead letter and late event');
    const elapsedMs = Date.now() - started;
    // figures first, so a failing run still leaves them for docs/reliability.md
    report('poison', { records: total, sent: kinds, processed: s.processed, duplicates: s.duplicates, tombstones: s.tombstones, deadLettered: s.dead, late: s.late, dlqTopicRecords: dead.messages.length, crashed: false, elapsedMs });

    expect(s.records).toBe(total);
    expect(accounted()).toBe(total);
    expect(dead.messages.length).toBe(s.dead + s.late);
    // no valid session ever saw more events than it has (nothing counted twice, no poison merged in)
    const best = maxCounts(parseSignals(out.messages));
    for (const [k, n] of expectedCount) expect(best.get(k)).toBe(n);
    expect(s.tombstones).toBeGreaterThanOrEqual(kinds.tombstones);
    expect(s.dead).toBeGreaterThan(kinds.randomBytes / 2);
    // the long form's waits (600 s + 300 s + 300 s) need more than the tier's default 120 s
  }, size(180_000, 1_500_000));
});
