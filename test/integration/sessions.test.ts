// Sessions as users meet them on the real broker: the inactivity gap splits one session's
// events whatever else the partition carries (here: nothing), the last session of a partition
// that went quiet closes by the idle timeout without any further traffic, and the session cap
// closes the least recently active sessions early, marked evicted and counted.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { type JourneySignal } from '../../src/contracts/records.ts';
import { startCli } from '../helpers/cli.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const MIN = 60_000;
// event times of a replay of history: long before the clock
const T0 = Date.UTC(2026, 0, 5, 8);

function click(id: string, sessionId: string, timestamp: number) {
  const ev = { eventId: id, sessionId, userId: `user-${sessionId}`, timestamp, type: 'product_view', page: '/product/7', durationMs: 20_000, value: null, properties: {} };
  return { key: sessionId, value: JSON.stringify(ev) };
}

const parse = (ms: { value: Buffer | null }[]): JourneySignal[] => ms.map((m) => JSON.parse(String(m.value)) as JourneySignal);

describe('sessions (real broker)', () => {
  it('splits one session’s events at 0, 1, 120, 121 and 600 minutes into three sessions on a quiet partition; the last closes by the idle timeout', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input], 1);
    await createTopics(kafka, [signals]);
    const idleTimeoutMs = 3000;
    const proc = startCli([
      'run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--output-format', 'json',
      '--idle-timeout-ms', String(idleTimeoutMs), '--tick-ms', '100', '--metrics-port', '0', '--group', uniqueName('g'),
    ]);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    await produce(kafka, input, [0, 1, 120, 121, 600].map((m, i) => click(`e${i}`, 's1', T0 + m * MIN)));
    const producedAt = Date.now();
    const finals = (): JourneySignal[] => parse(out.messages).filter((s) => s.final);
    await out.waitFor(() => finals().length >= 2, 60_000, 'the finals the gap gives');
    await out.waitFor(() => finals().length >= 3, 60_000, 'the final the idle timeout gives');
    const idleCloseMs = Date.now() - producedAt;
    await new Promise((r) => setTimeout(r, 1500));

    const all = parse(out.messages);
    const summary = finals().map((s) => ({ sessionId: s.sessionId, eventCount: s.eventCount, windowStart: s.windowStart, windowEnd: s.windowEnd, closeReason: s.closeReason }));
    process.stdout.write(`${JSON.stringify({ sessions: summary, idleCloseMs })}\n`);
    expect(summary).toEqual([
      { sessionId: 's1', eventCount: 2, windowStart: T0, windowEnd: T0 + MIN, closeReason: 'gap' },
      { sessionId: 's1', eventCount: 2, windowStart: T0 + 120 * MIN, windowEnd: T0 + 121 * MIN, closeReason: 'gap' },
      { sessionId: 's1', eventCount: 1, windowStart: T0 + 600 * MIN, windowEnd: T0 + 600 * MIN, closeReason: 'idle' },
    ]);
    // one session after the other: nothing of a session after its final, no signal spans a pause,
    // and only finals carry a close reason
    let lastFinalEnd = Number.NEGATIVE_INFINITY;
    for (const s of all) {
      expect(s.windowStart).toBeGreaterThan(lastFinalEnd);
      expect(s.windowEnd - s.windowStart).toBeLessThanOrEqual(MIN);
      if (!s.final) expect(s.closeReason).toBeNull();
      else lastFinalEnd = s.windowEnd;
    }
    expect(new Set(all.map((s) => s.signalId)).size).toBe(all.length);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('closes the least recently active sessions beyond --max-sessions early, marked evicted and counted', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input], 1);
    await createTopics(kafka, [signals]);
    const proc = startCli([
      'run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--output-format', 'json', '--max-sessions', '3',
      '--tick-ms', '100', '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--group', uniqueName('g'),
    ]);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    const url = /"metrics":"(http:\/\/[^"]+)"/.exec(proc.stderr())?.[1] as string;
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    // eight sessions a second apart, all within the gap; "keep" is active again after each
    const records = [click('k0', 'keep', T0)];
    for (let i = 0; i < 8; i++) records.push(click(`v${i}`, `visitor-${i}`, T0 + (i + 1) * 1000), click(`k${i + 1}`, 'keep', T0 + (i + 1) * 1000 + 500));
    await produce(kafka, input, records);
    const evicted = (): JourneySignal[] => parse(out.messages).filter((s) => s.final && s.closeReason === 'evicted');
    await out.waitFor(() => evicted().length >= 6, 60_000, 'six evicted finals');
    await new Promise((r) => setTimeout(r, 1500));
    // (the signals topic has several partitions: their order across partitions is not kept)
    expect(evicted().map((s) => s.sessionId).sort()).toEqual(['visitor-0', 'visitor-1', 'visitor-2', 'visitor-3', 'visitor-4', 'visitor-5']);
    expect(evicted().every((s) => s.eventCount === 1)).toBe(true);
    // the session kept active is never evicted and has every event
    expect(Math.max(...parse(out.messages).filter((s) => s.sessionId === 'keep').map((s) => s.eventCount))).toBe(9);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^journeylens_sessions_evicted_total 6$/m);
    expect(metrics).toMatch(/^journeylens_sessions_max 3$/m);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
