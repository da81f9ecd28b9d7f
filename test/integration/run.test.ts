// The first vertical slice against the real broker: `journeylens run` (the built binary)
// consumes JSON click events and produces one signal per session update.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';
import { runCli, startCli } from '../helpers/cli.ts';

const brokers = inject('kafkaBrokers');

function clickEvents(sessions: number, perSession: number, t0 = Date.UTC(2026, 10, 1)): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i < perSession; i++) {
    for (let s = 0; s < sessions; s++) {
      const ev = { eventId: `e-${s}-${i}`, sessionId: `s-${s}`, userId: `u-${s % 7}`, timestamp: t0 + s * 1000 + i * 15_000, type: 'page_view', page: '/', durationMs: 1200, value: null, properties: {} };
      out.push({ key: ev.sessionId, value: JSON.stringify(ev) });
    }
  }
  return out;
}

describe('journeylens run (real broker)', () => {
  it('consumes click events and publishes a signal per session update with the final event count', async () => {
    const kafka = testKafka(brokers);
    const input = uniqueName('clicks');
    const signals = uniqueName('signals');
    await createTopics(kafka, [input, signals]);
    const events = clickEvents(40, 12);
    await produce(kafka, input, events);

    const proc = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--group', uniqueName('g'), '--log-level', 'info', '--output-format', 'json', '--metrics-port', '0']);
    onTestFinished(() => proc.kill('SIGKILL'));
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    const finalCount = (ms: typeof out.messages) => {
      const best = new Map<string, number>();
      for (const m of ms) {
        const sig = JSON.parse(String(m.value)) as { sessionId: string; eventCount: number };
        best.set(sig.sessionId, Math.max(best.get(sig.sessionId) ?? 0, sig.eventCount));
      }
      return best;
    };
    await out.waitFor((ms) => [...finalCount(ms).values()].filter((c) => c === 12).length === 40, 60_000, 'a 12-event signal for each of the 40 sessions');

    // each event counted once: no session ever reports more events than it has
    expect(Math.max(...finalCount(out.messages).values())).toBe(12);
    const sample = JSON.parse(String(out.messages[0]?.value)) as Record<string, unknown>;
    expect(sample).toMatchObject({ sessionId: expect.any(String), eventCount: expect.any(Number), windowEnd: expect.any(Number), signalId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // keyed by user id
    const keyed = out.messages.find((m) => JSON.parse(String(m.value)).sessionId === 's-3');
    expect(String(keyed?.key)).toBe('u-3');

    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).toContain('journeylens stopped');
  });

  it('commits with the low-watermark rule: open sessions hold the commit back until their final signal is out', async () => {
    const kafka = testKafka(brokers);
    const input = uniqueName('clicks');
    const signals = uniqueName('signals');
    const group = uniqueName('g');
    await createTopics(kafka, [input, signals]);
    const t0 = Date.UTC(2026, 10, 1);
    await produce(kafka, input, clickEvents(10, 5, t0));

    const proc = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--group', group, '--output-format', 'json', '--metrics-port', '0']);
    onTestFinished(() => proc.kill('SIGKILL'));
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => ms.filter((m) => JSON.parse(String(m.value)).eventCount === 5).length >= 10, 60_000, 'signals for the 10 sessions');

    const admin = kafka.admin();
    await admin.connect();
    onTestFinished(() => admin.disconnect());
    const committedSum = async () => {
      const c = await admin.fetchOffsets({ groupId: group, topics: [input] });
      return (c[0]?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
    };
    // all 10 sessions are open: a restart must re-read them, so nothing past their first events is committed
    await new Promise((r) => setTimeout(r, 1500));
    expect(await committedSum()).toBe(0);

    // events two hours later (new sessions) move every partition's watermark past the 30-minute gap
    const later = Array.from({ length: 30 }, (_, i) => {
      const ev = { eventId: `late-${i}`, sessionId: `next-${i}`, userId: null, timestamp: t0 + 2 * 3600_000, type: 'page_view', page: '/', durationMs: null, value: null, properties: {} };
      return { key: ev.sessionId, value: JSON.stringify(ev) };
    });
    await produce(kafka, input, later);
    await out.waitFor((ms) => ms.filter((m) => JSON.parse(String(m.value)).final === true).length >= 10, 60_000, 'final signals of the 10 closed sessions');
    // now only the new sessions are open: the commit sits exactly at their first events
    const deadline = Date.now() + 20_000;
    while ((await committedSum()) !== 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await committedSum()).toBe(50);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('refuses to start when an output topic does not exist, naming it and its option', async () => {
    const missing = uniqueName('no-such-signals');
    const res = await runCli(['run', '--brokers', brokers, '--input', uniqueName('clicks'), '--signals-topic', missing, '--metrics-port', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`output topic "${missing}" (--signals-topic) does not exist on the cluster; pass --create-topics (env JOURNEYLENS_CREATE_TOPICS; with --topic-partitions and --topic-replication) to create it at start`);
  });

  it('--create-topics creates the missing output topics with --topic-partitions, then runs', async () => {
    const kafka = testKafka(brokers);
    const input = uniqueName('clicks');
    const signals = uniqueName('new-signals');
    const dlq = uniqueName('new-dlq');
    await createTopics(kafka, [input]);
    await produce(kafka, input, clickEvents(3, 2));
    const proc = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--dlq-topic', dlq, '--create-topics', '--topic-partitions', '2', '--topic-replication', '1', '--group', uniqueName('g'), '--output-format', 'json', '--metrics-port', '0']);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    expect(proc.stderr()).toContain('created the missing output topics (--create-topics)');
    const admin = kafka.admin();
    await admin.connect();
    onTestFinished(() => admin.disconnect());
    const meta = await admin.fetchTopicMetadata({ topics: [signals, dlq] });
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => ms.length >= 3, 60_000, 'signals on the created topic');
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('exits non-zero with a clear message when no broker is reachable', async () => {
    const res = await runCli(['run', '--brokers', '127.0.0.1:1', '--input', 'clicks', '--connect-timeout-ms', '1500']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot reach Kafka at 127.0.0.1:1');
    expect(res.stderr).toContain('--brokers (env JOURNEYLENS_BROKERS)');
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
