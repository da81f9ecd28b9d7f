// Scenario 2, broker outage: the processor's own broker is stopped mid-stream and started again
// on the same port and data directory. The processor must recover without a restart, /readyz
// must go false during the outage and true after it, and every session must reach its full
// event count.
import { join } from 'node:path';
import { type Producer } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startApp } from '../../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../../src/config.ts';
import { type JourneySignal } from '../../../src/contracts/records.ts';
import { createLogger } from '../../../src/log.ts';
import { freePort, startLocalKafka, type LocalKafkaHandle } from '../../../src/local-kafka/local-kafka.ts';
import { collect, createTopics, testKafka, uniqueName } from '../../helpers/kafka.ts';
import { maxCounts, parseSignals, report, size, sleep, tempDir, waitUntil } from './chaos.ts';

describe('chaos: broker outage (scenario 2)', () => {
  it('recovers without a restart after the broker is down mid-stream; /readyz goes false then true; nothing lost', async () => {
    const started = Date.now();
    const dataDir = join(tempDir('outage'), 'kafka');
    const port = await freePort();
    let broker: LocalKafkaHandle | undefined = await startLocalKafka({ port, dataDir });
    onTestFinished(async () => {
      await broker?.stop();
    });
    const brokers = broker.bootstrap;
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals], 3);

    const sessions = size(60, 300);
    const rounds = size(30, 80);
    const roundMs = size(250, 500);
    // long enough for /readyz to show it, and for kafkajs to give up its connections
    const outageMs = size(12_000, 20_000);
    const outageAtRound = Math.floor(rounds / 4);
    const t0 = Date.UTC(2026, 10, 1, 12);

    const seen: JourneySignal[] = [];
    const flags = { brokers, input, signalsTopic: signals, group: uniqueName('g'), outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100' };
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'error' }), onSignal: (s) => seen.push(s) });
    onTestFinished(() => app.stop());
    let failed: unknown;
    app.done.catch((err: unknown) => (failed = err));

    // /readyz, polled for the whole test
    const readiness: { at: number; ready: boolean }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const ready = await fetch(`${app.ops.url}/readyz`, { signal: AbortSignal.timeout(3000) })
          .then((r) => r.status === 200)
          .catch(() => false);
        if (readiness.at(-1)?.ready !== ready) readiness.push({ at: Date.now(), ready });
        await sleep(250);
      }
    })();
    onTestFinished(async () => {
      polling = false;
      await poller;
    });
    const progress = setInterval(() => {
      const best = [...maxCounts(seen).values()];
      process.stderr.write(`[chaos:outage] +${Date.now() - started} ms: rounds ${producedRounds}/${rounds}, broker ${broker ? 'up' : 'down'}, ready ${readiness.at(-1)?.ready}, sessions ${best.length}, min count ${Math.min(...best)}, ${JSON.stringify(app.processor.stats)}\n`);
    }, 5000);
    onTestFinished(() => clearInterval(progress));

    // The stream: one event per session per round. A send that fails (broker down) is retried
    // until it is acknowledged, with a fresh producer, as a real upstream would.
    let producer: Producer | undefined;
    let sendFailures = 0;
    const send = async (messages: { key: string; value: string }[]) => {
      for (;;) {
        try {
          if (!producer) {
            producer = kafka.producer({ retry: { retries: 2 } });
            await producer.connect();
          }
          await producer.send({ topic: input, messages });
          return;
        } catch {
          sendFailures++;
          await producer?.disconnect().catch(() => undefined);
          producer = undefined;
          await sleep(500);
        }
      }
    };
    onTestFinished(async () => {
      await producer?.disconnect().catch(() => undefined);
    });

    let producedRounds = 0;
    let downAt = 0;
    let upAt = 0;
    const outage = (async () => {
      await waitUntil(() => producedRounds >= outageAtRound, 60_000, 'the stream to be under way');
      downAt = Date.now();
      await broker?.stop();
      broker = undefined;
      await sleep(outageMs);
      broker = await startLocalKafka({ port, dataDir });
      upAt = Date.now();
    })();
    for (let r = 0; r < rounds; r++) {
      const messages = Array.from({ length: sessions }, (_, s) => {
        const e = { eventId: `e-${s}-${r}`, sessionId: `s-${s}`, userId: `u-${s}`, timestamp: t0 + r * 2000 + s, type: 'page_view', page: `/p/${r % 7}`, durationMs: 900, value: null, properties: {} };
        return { key: e.sessionId, value: JSON.stringify(e) };
      });
      await send(messages);
      producedRounds++;
      await sleep(roundMs);
    }
    await outage;

    const complete = () => {
      const best = maxCounts(seen);
      return best.size === sessions && [...best.values()].every((n) => n === rounds);
    };
    await waitUntil(() => failed !== undefined || complete(), size(90_000, 180_000), `every session at ${rounds} events`);
    expect(failed).toBeUndefined();
    const recoveredAt = Math.min(...seen.filter((s) => s.emittedAt > upAt).map((s) => s.emittedAt));
    await waitUntil(() => readiness.at(-1)?.ready === true, 30_000, '/readyz to be true again');
    polling = false;
    await poller;

    // what the topic holds, read back by a fresh consumer: every session at its full count
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => [...maxCounts(parseSignals(ms)).values()].filter((n) => n === rounds).length === sessions, 60_000, 'the full counts on the signals topic');

    const wentFalse = readiness.some((r) => !r.ready && r.at >= downAt && r.at <= upAt + 5_000);
    const s = app.processor.stats;
    report('outage', {
      events: sessions * rounds,
      sessions,
      outageMs: upAt - downAt,
      producerSendFailures: sendFailures,
      readyzTransitions: readiness.map((r) => ({ t: r.at - downAt, ready: r.ready })),
      readyzWentFalse: wentFalse,
      recoveryMs: recoveredAt - upAt,
      records: s.records,
      replayedAfterRejoin: s.replayed,
      processed: s.processed,
      duplicates: s.duplicates,
      signals: s.signals,
      elapsedMs: Date.now() - started,
    });
    // nothing lost and nothing counted twice: every session reached exactly its full count.
    // (Records re-read after the consumer rejoined rebuild state, so `processed` counts them again.)
    const counts = [...maxCounts(parseSignals(out.messages)).values()];
    expect(counts.length).toBe(sessions);
    expect(counts.every((n) => n === rounds)).toBe(true);
    expect(s.records - s.replayed).toBeGreaterThanOrEqual(sessions * rounds);
    expect(wentFalse).toBe(true);
  }, size(150_000, 400_000));
});
