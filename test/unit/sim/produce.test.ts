import { describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { ErrorCodes, UserError } from '../../../src/errors.ts';
import { generate } from '../../../src/sim/generator.ts';
import { type SimProducer, RateControl, produceSimulated } from '../../../src/sim/produce.ts';

class FakeProducer implements SimProducer {
  connected = false;
  disconnects = 0;
  batches: { topic: string; messages: { key: string; value: string }[] }[] = [];
  constructor(private readonly failConnect = false) {}
  async connect(): Promise<void> {
    if (this.failConnect) throw new Error('Connection timeout');
    this.connected = true;
  }
  async send(record: { topic: string; messages: { key: string; value: string }[] }): Promise<unknown> {
    this.batches.push(record);
    return [];
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
  }
}

describe('produceSimulated', () => {
  it('sends every event of a finite simulation as JSON keyed by sessionId, then disconnects', async () => {
    const producer = new FakeProducer();
    const start = Date.UTC(2026, 0, 5);
    const result = await produceSimulated({ topic: 'clicks', rate: 100_000, sessions: 40, seed: 2, start, producer, tickMs: 5, pacing: 'replay' });
    const expected = [...generate({ sessions: 40, seed: 2, start })].map((i) => i.event);
    const sent = producer.batches.flatMap((b) => b.messages);
    expect(result.reason).toBe('done');
    expect(result.backlogEvents).toBe(0);
    expect(result.events).toBe(expected.length);
    expect(result.sessions).toBe(40);
    expect(producer.batches.every((b) => b.topic === 'clicks')).toBe(true);
    expect(sent.map((m) => JSON.parse(m.value) as ClickEvent)).toEqual(expected);
    for (const m of sent) expect(m.key).toBe((JSON.parse(m.value) as ClickEvent).sessionId);
    expect(producer.disconnects).toBe(1);
  });

  it('never runs ahead of the target rate and stops after the duration', async () => {
    const producer = new FakeProducer();
    const t0 = Date.now();
    const seen: { events: number; elapsedMs: number }[] = [];
    const result = await produceSimulated({
      topic: 't',
      rate: 500,
      durationMs: 400,
      seed: 1,
      pacing: 'replay',
      producer,
      tickMs: 20,
      onProgress: (p) => seen.push({ events: p.events, elapsedMs: p.elapsedMs }),
    });
    expect(result.reason).toBe('duration');
    expect(result.events).toBeGreaterThan(0);
    for (const p of seen) expect(p.events).toBeLessThanOrEqual((500 * p.elapsedMs) / 1000 + 1);
    expect(result.events).toBeLessThanOrEqual((500 * (Date.now() - t0)) / 1000 + 1);
    expect(producer.disconnects).toBe(1);
  });

  it('stops cleanly when the signal aborts', async () => {
    const producer = new FakeProducer();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const result = await produceSimulated({ topic: 't', rate: 1000, seed: 1, producer, signal: ac.signal, tickMs: 10, pacing: 'replay' });
    expect(result.reason).toBe('aborted');
    expect(producer.disconnects).toBe(1);
  });

  it('realtime: sends the warm-up backlog first, in event-time order, and never an event from the future', async () => {
    const batches: { at: number; events: ClickEvent[] }[] = [];
    const producer = new FakeProducer();
    producer.send = async (record) => {
      batches.push({ at: Date.now(), events: record.messages.map((m) => JSON.parse(m.value) as ClickEvent) });
      return [];
    };
    const t0 = Date.now();
    const result = await produceSimulated({ topic: 't', rate: 300, durationMs: 1500, warmupMs: 60_000, backlogMs: 60_000, seed: 3, producer, tickMs: 50 });
    expect(result.reason).toBe('duration');
    const all = batches.flatMap((b) => b.events);
    for (let i = 1; i < all.length; i++) expect(all[i]!.timestamp).toBeGreaterThanOrEqual(all[i - 1]!.timestamp);
    expect(all[0]!.timestamp).toBeGreaterThanOrEqual(t0 - 60_000);
    const backlog = all.filter((e) => e.timestamp < t0);
    expect(backlog.length).toBeGreaterThan(0);
    expect(result.backlogEvents).toBeGreaterThanOrEqual(backlog.length);
    expect(result.backlogEvents).toBeLessThanOrEqual(all.length);
    for (const b of batches) expect(b.events.filter((e) => e.timestamp > b.at)).toEqual([]);
    expect(result.lagMs).toBeGreaterThanOrEqual(0);
  });

  it('realtime: --sessions N stops once N whole sessions are sent', async () => {
    const producer = new FakeProducer();
    // A long warm-up puts the sessions in the backlog, so this does not wait for real time.
    const result = await produceSimulated({ topic: 't', rate: 100, sessions: 25, warmupMs: 6 * 3_600_000, backlogMs: 6 * 3_600_000, seed: 4, producer, tickMs: 5 });
    const events = producer.batches.flatMap((b) => b.messages.map((m) => JSON.parse(m.value) as ClickEvent));
    expect(result.reason).toBe('done');
    expect(result.sessions).toBe(25);
    expect(new Set(events.map((e) => e.sessionId)).size).toBe(25);
    // Whole sessions: every session's steps run 0..n-1 without a gap.
    const steps = new Map<string, number[]>();
    for (const e of events) steps.set(e.sessionId, [...(steps.get(e.sessionId) ?? []), Number(e.eventId.split('-').pop())]);
    for (const s of steps.values()) expect(s).toEqual(s.map((_, i) => i));
  });

  it('replays simulated time when a start is given, and refuses a start with realtime pacing', async () => {
    const start = Date.UTC(2026, 0, 5);
    const producer = new FakeProducer();
    const r = await produceSimulated({ topic: 't', rate: 100_000, sessions: 5, seed: 1, start, producer, tickMs: 5 });
    expect(r.reason).toBe('done');
    const first = JSON.parse(producer.batches[0]!.messages[0]!.value) as ClickEvent;
    expect(first.timestamp).toBeGreaterThanOrEqual(start);
    expect(first.timestamp).toBeLessThan(start + 8 * 86_400_000);
    await expect(produceSimulated({ topic: 't', rate: 10, start, pacing: 'realtime', producer })).rejects.toThrow("start applies to pacing 'replay'");
  });

  it('reports an unreachable broker as a UserError naming --brokers', async () => {
    const p = produceSimulated({ topic: 't', rate: 10, brokers: ['nowhere:9092'], producer: new FakeProducer(true) });
    await expect(p).rejects.toBeInstanceOf(UserError);
    await expect(p).rejects.toMatchObject({ code: ErrorCodes.BROKER_UNREACHABLE });
    await expect(p).rejects.toThrow(/cannot connect to Kafka at nowhere:9092: Connection timeout\. Check --brokers/);
  });

  it('reports a failed send as a UserError naming the topic, and still disconnects', async () => {
    const producer = new FakeProducer();
    producer.send = async () => {
      throw new Error('Not authorized to access topics');
    };
    await expect(produceSimulated({ topic: 'clicks', rate: 1000, sessions: 5, producer, tickMs: 5, pacing: 'replay' })).rejects.toThrow(
      'producing to topic clicks failed after retries: Not authorized to access topics.',
    );
    expect(producer.disconnects).toBe(1);
  });

  it('rejects a missing rate or topic before connecting', async () => {
    const producer = new FakeProducer();
    await expect(produceSimulated({ topic: 't', rate: 0, producer })).rejects.toThrow('--rate must be a positive number of events per second, got 0.');
    await expect(produceSimulated({ topic: '', rate: 5, producer })).rejects.toThrow('--topic is required');
    expect(producer.connected).toBe(false);
  });
});

describe('RateControl', () => {
  // Feeds a steady measured rate for `seconds`, one update per 100 ms.
  function drive(target: number, measured: number, lagMs: number, seconds: number): number {
    const control = new RateControl(target);
    const sim = { usersPerHour: 1000 };
    for (let t = 0; t <= seconds * 1000; t += 100) control.update(sim, t, Math.floor((measured * t) / 1000), lagMs);
    return sim.usersPerHour;
  }

  it('raises arrivals when traffic is below target and lowers them when above, at most 5% a second', () => {
    const up = drive(300, 150, 0, 10);
    expect(up).toBeGreaterThan(1000);
    expect(up).toBeLessThanOrEqual(1000 * 1.05 ** 7 + 1e-9);
    expect(drive(300, 600, 0, 10)).toBeLessThan(1000);
  });

  it('leaves arrivals alone on target and backs off when events wait behind the rate cap', () => {
    expect(drive(300, 300, 0, 10)).toBeCloseTo(1000, 0);
    expect(drive(300, 300, 2000, 10)).toBeLessThan(1000 * 0.95 ** 5);
  });
});
