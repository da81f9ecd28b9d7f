// Alert state left behind by a crash (a session's `s:` record and its `d:` marks, when the
// process died between the session's final and its tombstone) expires: the state topic is made
// compact,delete with --alert-state-retention-hours, and records written longer ago than that are
// dropped when the topic is read and tombstoned by the processor. Real broker; the old records
// carry a Kafka timestamp in the past, as a week-old orphan would.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes } from 'kafkajs';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { alertStateTopicFor, deliveredKey, encodeSession, ensureAlertStateTopic, readAlertState, sessionKey, type StoredSession } from '../../src/processor/alert-state.ts';
import { startApp } from '../../src/processor/app.ts';
import { writeSimulationFiles } from '../../src/sim/files.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const quiet = createLogger({ level: 'silent' });
const HOUR = 3_600_000;
const state = (latched: number): string => encodeSession({ latched, lastAlertAt: 1_700_000_000_000, raised: [1, latched === 2 ? 1 : 0], at: [7n, 1_700_000_000_000, 0] } satisfies StoredSession);

/** Writes records with the given Kafka timestamps (ms), in order, to partition 0. */
async function write(topic: string, records: { key: string; value: string | null; at: number }[]): Promise<void> {
  const producer = testKafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: records.map((r) => ({ key: r.key, value: r.value, partition: 0, timestamp: String(r.at) })) });
  } finally {
    await producer.disconnect();
  }
}

describe('alert state retention (real broker)', () => {
  it('makes the state topic compact,delete with the retention, and leaves out keys whose latest record is older', async () => {
    const kafka = testKafka(brokers);
    const topic = alertStateTopicFor(uniqueName('alerts'));
    expect(await ensureAlertStateTopic(kafka, topic, { partitions: 1, replication: 1, retentionMs: 30 * 24 * HOUR })).toBe(true);
    expect(await ensureAlertStateTopic(kafka, topic, { partitions: 1, replication: 1, retentionMs: 30 * 24 * HOUR })).toBe(false);
    const admin = kafka.admin();
    await admin.connect();
    onTestFinished(() => admin.disconnect());
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] }] });
    const entries = Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(30 * 24 * HOUR) });

    const now = Date.now();
    const old = now - 10 * 24 * HOUR;
    await write(topic, [
      { key: sessionKey('orphan'), value: state(2), at: old },
      { key: deliveredKey('orphan-alert'), value: 'orphan', at: old },
      // written long ago, then again recently: the latest record decides
      { key: sessionKey('revived'), value: state(1), at: old },
      { key: sessionKey('revived'), value: state(2), at: now - HOUR },
      // recent, then an old one after it (a producer with a skewed clock): expired
      { key: deliveredKey('skewed'), value: 'skewed', at: now - HOUR },
      { key: deliveredKey('skewed'), value: 'skewed', at: old },
      // tombstoned already: neither kept nor listed
      { key: sessionKey('closed'), value: state(1), at: old },
      { key: sessionKey('closed'), value: null, at: now },
      { key: sessionKey('fresh'), value: state(1), at: now },
      { key: deliveredKey('fresh-alert'), value: 'fresh', at: now },
    ]);

    const all = await readAlertState(kafka, topic, uniqueName('probe'), quiet);
    expect([...all.sessions.keys()].sort()).toEqual(['fresh', 'orphan', 'revived']);
    expect(all.expired).toEqual([]);

    const kept = await readAlertState(kafka, topic, uniqueName('probe'), quiet, { retentionMs: 7 * 24 * HOUR, now });
    expect([...kept.sessions.keys()].sort()).toEqual(['fresh', 'revived']);
    expect(kept.sessions.get('revived')?.latched).toBe(2);
    expect([...kept.delivered.keys()]).toEqual(['fresh-alert']);
    expect([...kept.expired].sort()).toEqual([deliveredKey('orphan-alert'), deliveredKey('skewed'), sessionKey('orphan')].sort());
  });

  it('the processor tombstones expired state with its next outputs and restores the rest', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, alerts] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts')];
    const stateTopic = alertStateTopicFor(alerts);
    await createTopics(kafka, [input, signals, alerts]);
    // made here with one partition so the old and fresh records share a segment (the broker's own
    // retention then keeps them until the processor has read them)
    await ensureAlertStateTopic(kafka, stateTopic, { partitions: 1, replication: 1, retentionMs: 168 * HOUR });
    const now = Date.now();
    await write(stateTopic, [
      { key: sessionKey('orphan-session'), value: state(2), at: now - 8 * 24 * HOUR },
      { key: deliveredKey('orphan-alert'), value: 'orphan-session', at: now - 8 * 24 * HOUR },
      { key: sessionKey('recent-session'), value: state(1), at: now - 2 * HOUR },
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'jl-alert-state-'));
    await writeSimulationFiles({ seed: 11, sessions: 60, outDir: dir });
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    await produce(kafka, input, lines.map((l) => ({ key: (JSON.parse(l) as { sessionId: string }).sessionId, value: l })));

    // the default retention (168 h): the 8-day-old records go, the 2-hour-old one stays
    const flags = { brokers, input, signalsTopic: signals, alertsTopic: alerts, outputFormat: 'json', group: uniqueName('g'), metricsPort: '0', metricsHost: '127.0.0.1' };
    const config = resolveConfig(runOptions, flags);
    expect(config.alertStateRetentionHours).toBe(168);
    const app = await startApp(config, { flags, log: quiet });
    onTestFinished(() => app.stop());
    const raw = await collect(kafka, stateTopic);
    onTestFinished(() => raw.stop());
    const tombstoned = (key: string) => (ms: typeof raw.messages) => ms.some((m) => m.key?.toString() === key && m.value === null);
    await raw.waitFor((ms) => tombstoned(sessionKey('orphan-session'))(ms) && tombstoned(deliveredKey('orphan-alert'))(ms), 90_000, 'tombstones of the expired state');
    expect(tombstoned(sessionKey('recent-session'))(raw.messages)).toBe(false);

    const after = await readAlertState(kafka, stateTopic, uniqueName('probe'), quiet);
    expect(after.sessions.has('orphan-session')).toBe(false);
    expect(after.delivered.has('orphan-alert')).toBe(false);
    expect(after.sessions.get('recent-session')?.latched).toBe(1);
  });
});
