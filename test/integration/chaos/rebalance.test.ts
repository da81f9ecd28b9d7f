// Scenario 3, rebalance: a second instance joins the group mid-stream and later leaves (a
// graceful stop). The final per-session signals must equal a single-instance reference run.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { type App, startApp } from '../../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../../src/config.ts';
import { type JourneySignal } from '../../../src/contracts/records.ts';
import { createLogger } from '../../../src/log.ts';
import { unscoredScorer } from '../../../src/contracts/scorer.ts';
import { createTopics, produce, testKafka, uniqueName } from '../../helpers/kafka.ts';
import { Partitioners } from 'kafkajs';
import { report, sessionStream, size, sleep, waitUntil } from './chaos.ts';

const brokers = inject('kafkaBrokers');

/** The warn and error lines of an instance's log (printed when the test fails), and how it ended. */
interface Trace {
  name: string;
  lines: string[];
  failure?: string;
}

async function instance(input: string, signals: string, group: string, seen: JourneySignal[], trace: Trace): Promise<App> {
  const flags = { brokers, input, signalsTopic: signals, group, outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100' };
  const destination = { write: (line: string) => void trace.lines.push(line.trim()) };
  const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'warn') as 'warn', destination });
  // the model plays no part in a rebalance: the unscored scorer keeps the 2 cores for Kafka
  const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log, scorer: () => unscoredScorer, onSignal: (s) => seen.push(s) });
  app.done.catch((err: unknown) => {
    trace.failure = String((err as Error)?.stack ?? err);
  });
  return app;
}

/** The partition kafkajs' default partitioner gives a key (what the test's producer used). */
function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({ topic: 't', partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] })), message: { key, value: null } });
}

const contentOf = (x: JourneySignal) => {
  const { emittedAt: _t, ...content } = x;
  return JSON.stringify(content);
};

describe('chaos: rebalance (scenario 3)', () => {
  it('a second instance joins mid-stream and leaves: every final signal of the single-instance run is there', async () => {
    const started = Date.now();
    const kafka = testKafka(brokers);
    const [input, refSignals, chaosSignals] = [uniqueName('clicks'), uniqueName('signals-ref'), uniqueName('signals-chaos')];
    await createTopics(kafka, [input, refSignals, chaosSignals], 6);
    const events = size(12_000, 200_000);
    const per = 20;
    const sessions = events / per;
    const chunk = size(1_000, 5_000);
    const t0 = Date.UTC(2026, 10, 1);
    const stream = sessionStream(sessions, per, t0);
    const lastTs = stream.at(-1)?.ts ?? t0;
    const closers = Array.from({ length: 120 }, (_, i) => ({ key: `closer-${i}`, value: JSON.stringify({ eventId: `c-${i}`, sessionId: `closer-${i}`, userId: null, timestamp: lastTs + 2 * 3600_000, type: 'page_view', page: '/', durationMs: null, value: null, properties: {} }) }));

    const ref: JourneySignal[] = [];
    const chaos: JourneySignal[] = [];
    const traces: Trace[] = [{ name: 'reference', lines: [] }, { name: 'first', lines: [] }, { name: 'second', lines: [] }];
    const refApp = await instance(input, refSignals, uniqueName('g-ref'), ref, traces[0]!);
    onTestFinished(() => refApp.stop());
    const group = uniqueName('g-chaos');
    const a = await instance(input, chaosSignals, group, chaos, traces[1]!);
    onTestFinished(() => a.stop());
    let b: App | undefined;
    onTestFinished(async () => {
      await b?.stop();
    });

    const chunks = Math.ceil(stream.length / chunk);
    const joinAt = Math.floor(chunks / 3);
    const leaveAt = Math.floor((2 * chunks) / 3);
    const timeline: Record<string, number> = {};
    for (let c = 0; c < chunks; c++) {
      if (c === joinAt) {
        b = await instance(input, chaosSignals, group, chaos, traces[2]!);
        timeline.secondJoinedMs = Date.now() - started;
      }
      if (c === leaveAt && b) {
        await b.stop();
        timeline.secondLeftMs = Date.now() - started;
        timeline.secondInstanceRecords = b.processor.stats.records;
      }
      await produce(kafka, input, stream.slice(c * chunk, (c + 1) * chunk).map(({ key, value }) => ({ key, value })));
      await sleep(size(1_000, 1_000));
    }
    await produce(kafka, input, closers);

    const finalSessions = (xs: JourneySignal[]) => new Set(xs.filter((s) => s.final).map((s) => s.sessionId)).size;
    await waitUntil(() => finalSessions(ref) >= sessions, size(60_000, 600_000), `all ${sessions} reference finals`);
    try {
      await waitUntil(() => finalSessions(chaos) >= sessions, size(150_000, 600_000), `all ${sessions} finals with the rebalances`);
    } catch (err) {
      // which sessions lack a final, on which partitions, how far their events got, and where the
      // group's commits stand (cause of an intermittent timeout in the full suite)
      const withFinal = new Set(chaos.filter((x) => x.final).map((x) => x.sessionId));
      const lacking = [...new Set(stream.map((r) => r.key))].filter((k) => !withFinal.has(k));
      const lastCount = new Map<string, number>();
      for (const x of chaos) lastCount.set(x.sessionId, Math.max(lastCount.get(x.sessionId) ?? 0, x.eventCount));
      const admin = kafka.admin();
      await admin.connect();
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
      const ends = await admin.fetchTopicOffsets(input);
      await admin.disconnect();
      const byPartition = new Map<number, string[]>();
      for (const k of lacking) byPartition.set(partitionOf(k, 6), [...(byPartition.get(partitionOf(k, 6)) ?? []), k]);
      process.stderr.write(
        `[rebalance] TIMED OUT: ${lacking.length} sessions without a final (of ${sessions})\n` +
          `${JSON.stringify({ lackingByPartition: [...byPartition].map(([p, ks]) => ({ partition: p, sessions: ks.length, examples: ks.slice(0, 5).map((k) => ({ session: k, highestEventCountSeen: lastCount.get(k) ?? 0 })) })), committed: committed?.partitions, ends: ends.map((e) => ({ partition: e.partition, high: e.high })), first: a.processor.stats, firstTicksInFlight: a.processor.ticksInFlight, second: b?.processor.stats })}\n` +
          traces.map((t) => `[rebalance] ${t.name}: ${t.failure ? `FAILED: ${t.failure}` : 'not failed'}; ${t.lines.length} warn/error lines, the last 15 besides heartbeat answers:\n${t.lines.filter((l) => !l.includes('Response Heartbeat')).slice(-15).join('\n')}`).join('\n') +
          '\n',
      );
      throw err;
    }
    process.stderr.write(`[rebalance] all finals after ${Date.now() - started} ms\n`);
    await sleep(1000);

    const refFinals = new Map(ref.filter((s) => s.final).map((s) => [s.sessionId, s]));
    const chaosFinals = new Map<string, JourneySignal[]>();
    for (const s of chaos.filter((x) => x.final)) chaosFinals.set(s.sessionId, [...(chaosFinals.get(s.sessionId) ?? []), s]);
    const missing = [...refFinals].filter(([k, r]) => !(chaosFinals.get(k) ?? []).some((c) => contentOf(c) === contentOf(r)));
    const differing = [...refFinals].filter(([k, r]) => (chaosFinals.get(k) ?? []).some((c) => contentOf(c) !== contentOf(r)));
    const extra = [...chaosFinals.keys()].filter((k) => !refFinals.has(k));
    const ids = new Map<string, string>();
    let repeats = 0;
    let conflicts = 0;
    for (const s of chaos) {
      const prev = ids.get(s.signalId);
      if (prev === undefined) ids.set(s.signalId, contentOf(s));
      else if (prev === contentOf(s)) repeats++;
      else conflicts++;
    }
    report('rebalance', {
      events,
      sessions,
      ...timeline,
      referenceFinals: refFinals.size,
      referenceFinalsMissing: missing.length,
      sessionsWithAnExtraDifferentFinal: differing.length,
      example: differing.slice(0, 3).map(([k, r]) => ({ session: k, reference: r.eventCount, withRebalances: chaosFinals.get(k)?.map((c) => c.eventCount) })),
      extraFinals: extra.length,
      signalsReference: ref.length,
      signalsWithRebalances: chaos.length,
      exactRepeats: repeats,
      conflictingIds: conflicts,
      elapsedMs: Date.now() - started,
    });
    expect(missing.map(([k]) => k)).toEqual([]);
    expect(extra).toEqual([]);
    // no conflicting finals: the new owner of a partition re-reads from the committed offset and
    // must not re-form a partial session from the tail of one that already closed
    expect(conflicts).toBe(0);
    expect(differing.map(([k]) => k)).toEqual([]);
  }, size(240_000, 2_400_000));
});
