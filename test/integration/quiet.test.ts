// Quiet re-scores as users meet them: with --quiet-every-ms, a session that stops is scored
// again while other traffic moves the partition's watermark, each time under its own signal id
// and with the silence in its churn risk, and it still closes once at last event + gap.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { type JourneySignal } from '../../src/contracts/records.ts';
import { startCli } from '../helpers/cli.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const MIN = 60_000;

function click(id: string, sessionId: string, timestamp: number) {
  const ev = { eventId: id, sessionId, userId: `user-${sessionId}`, timestamp, type: 'product_view', page: '/product/7', durationMs: 20_000, value: null, properties: {} };
  return { key: sessionId, value: JSON.stringify(ev) };
}

describe('quiet re-scores (real broker)', () => {
  it('re-scores a quiet session at each checkpoint with its own signal id and a risk that follows the silence, then closes it once', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input], 1);
    await createTopics(kafka, [signals]);
    const proc = startCli([
      'run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--output-format', 'json',
      '--quiet-every-ms', String(10 * MIN), '--tick-ms', '100', '--metrics-port', '0', '--group', uniqueName('g'),
    ]);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    const t0 = Date.UTC(2026, 10, 2, 9);
    // "quiet" stops after one minute; "driver" keeps the partition's watermark moving (lateness 1 min)
    const quiet = [0, 30_000, 60_000].map((dt, i) => click(`q-${i}`, 'quiet', t0 + dt));
    const driver = Array.from({ length: 15 }, (_, i) => click(`d-${i}`, 'driver', t0 + i * 2 * MIN)); // up to t0 + 28 min
    const ofQuiet = (): JourneySignal[] => out.messages.map((m) => JSON.parse(String(m.value)) as JourneySignal).filter((s) => s.sessionId === 'quiet');
    // its update at the last event first (a quiet re-score in the same tick would supersede it)
    await produce(kafka, input, quiet);
    await out.waitFor(() => ofQuiet().some((s) => s.eventCount === 3), 60_000, 'the update at the last event');
    await produce(kafka, input, driver);
    // checkpoints at last event + 10 min and + 20 min (t0 + 11 and 21 min) are behind the watermark (t0 + 27 min)
    await out.waitFor(() => ofQuiet().filter((s) => s.eventCount === 3 && !s.final).length >= 3, 60_000, 'the update at the last event and two quiet re-scores');

    await produce(kafka, input, [click('d-late', 'driver', t0 + 35 * MIN)]); // watermark t0 + 34 min: past last event + 30 min gap
    await out.waitFor(() => ofQuiet().some((s) => s.final), 60_000, 'the close of the quiet session');
    await new Promise((r) => setTimeout(r, 1500));

    const all = ofQuiet();
    const atThree = all.filter((s) => s.eventCount === 3 && !s.final);
    expect(atThree).toHaveLength(3);
    expect(new Set(atThree.map((s) => s.signalId)).size).toBe(3);
    // the same events and image window each time: only the silence differs, and the readout sees it
    expect(new Set(atThree.map((s) => `${s.windowStart}/${s.windowEnd}`)).size).toBe(1);
    expect(new Set(atThree.map((s) => s.churnRisk)).size).toBe(3);
    process.stdout.write(`${JSON.stringify({ quietSession: atThree.map((s) => ({ signalId: s.signalId.slice(0, 8), churnRisk: Number(s.churnRisk.toFixed(4)) })) })}\n`);
    expect(all.filter((s) => s.final)).toHaveLength(1);
    expect(all.at(-1)!.final).toBe(true);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('refuses a quiet interval the session gap would pre-empt, naming the option', async () => {
    const proc = startCli(['run', '--brokers', brokers, '--input', uniqueName('clicks'), '--quiet-every-ms', String(30 * MIN), '--metrics-port', '0']);
    onTestFinished(() => proc.kill('SIGKILL'));
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain("--quiet-every-ms (env JOURNEYLENS_QUIET_EVERY_MS) is 1800000 but must be less than the model's session gap (1800000 ms)");
  });
});
