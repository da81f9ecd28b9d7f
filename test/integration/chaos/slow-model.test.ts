// Scenario 6, slow model: the scorer is slowed artificially (every micro-batch waits). The
// processor must pause its partitions instead of buffering without bound, keep its heap bounded,
// and stay in the group: no rebalance, no crash, and every event still processed in the end.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { type SessionScorer, unscoredScorer } from '../../../src/contracts/scorer.ts';
import { createTopics, produce, testKafka, uniqueName } from '../../helpers/kafka.ts';
import { report, sessionStream, size, sleep, waitUntil } from './chaos.ts';

const brokers = inject('kafkaBrokers');

describe('chaos: slow model (scenario 6)', () => {
  it('pauses partitions, keeps the heap bounded and stays in the group while the model is slow', async () => {
    const started = Date.now();
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals], 3);
    const events = size(20_000, 100_000);
    // per session view scored: a ~50× slower encoder than the real one on this machine
    const perViewMs = size(10, 25);
    const sessions = events / 20;
    await produce(kafka, input, sessionStream(sessions, 20, Date.UTC(2026, 10, 1)).map(({ key, value }) => ({ key, value })));

    const lines: { msg?: string; level?: string; kafkajs?: { error?: string } }[] = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    let scoreCalls = 0;
    const slow: SessionScorer = {
      modelVersion: 'slow',
      score: async (views) => {
        scoreCalls++;
        await sleep(perViewMs * views.length);
        return unscoredScorer.score(views);
      },
    };
    const flags = { brokers, input, signalsTopic: signals, group: uniqueName('g'), outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100', maxInFlight: '1000', maxBatch: '64' };
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log, scorer: () => slow });
    onTestFinished(() => app.stop());
    let failed: unknown;
    app.done.catch((err: unknown) => (failed = err));

    let heapMax = heapBefore;
    const sampler = setInterval(() => (heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)), 200);
    onTestFinished(() => clearInterval(sampler));
    const s = app.processor.stats;
    await waitUntil(() => failed !== undefined || s.processed + s.duplicates >= events, size(100_000, 900_000), `all ${events} events processed by the slow model`);
    clearInterval(sampler);
    expect(failed).toBeUndefined();

    const count = (re: RegExp) => lines.filter((l) => re.test(l.msg ?? '') || re.test(l.kafkajs?.error ?? '')).length;
    const pauses = count(/backpressure: pausing/);
    const joins = count(/consumer joined the group/);
    const rebalances = count(/rebalanc|not a member|unknown member/i);
    const crashes = count(/consumer crashed/);
    const heapGrowthMb = Math.round((heapMax - heapBefore) / 1e6);
    const slowFor = Date.now() - started;
    report('slow-model', { events, scoreDelayPerViewMs: perViewMs, scoreCalls, pauses, joins, rebalances, crashes, heapGrowthMb, processed: s.processed, signals: s.signals, elapsedMs: slowFor });
    expect(pauses).toBeGreaterThan(0);
    expect(joins).toBe(1);
    expect(rebalances).toBe(0);
    expect(crashes).toBe(0);
    // bounded: what is in flight is capped by --max-in-flight, not by the backlog on the topic
    expect(heapGrowthMb).toBeLessThan(300);
  }, size(150_000, 1_200_000));
});
