// Scenario 1, crash: `journeylens run` (the built CLI) is SIGKILLed at random points while the
// stream is being produced, and restarted each time. Its final per-session signals must equal
// those of a crash-free reference run on the same input: nothing missing, nothing different, and
// repeats only as exact copies of the same signalId.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { Rng } from '../../../src/util/prng.ts';
import { startCli, type CliProcess } from '../../helpers/cli.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../../helpers/kafka.ts';
import { copyOffsets, report, sessionStream, size, sleep, type SignalLite, waitUntil } from './chaos.ts';

const brokers = inject('kafkaBrokers');

interface Signal extends SignalLite {
  userId: string | null;
  windowStart: number;
  windowEnd: number;
  clusterId: number;
  churnRisk: number;
  modelVersion: string;
  emittedAt: number;
}

function finals(signals: Signal[]): Map<string, Signal[]> {
  const m = new Map<string, Signal[]>();
  for (const s of signals.filter((x) => x.final)) m.set(s.sessionId, [...(m.get(s.sessionId) ?? []), s]);
  return m;
}

describe('chaos: crash (scenario 1)', () => {
  it('SIGKILLed and restarted at random points: every final signal of a crash-free run is there, none conflicting, and replay marks are honoured', async () => {
    const started = Date.now();
    const kafka = testKafka(brokers);
    const [input, refSignals, chaosSignals] = [uniqueName('clicks'), uniqueName('signals-ref'), uniqueName('signals-chaos')];
    await createTopics(kafka, [input, refSignals, chaosSignals], 3);
    const events = size(20_000, 200_000);
    const per = 20;
    const sessions = events / per;
    const kills = size(5, 8);
    const chunk = size(1_000, 5_000);
    const t0 = Date.UTC(2026, 10, 1);
    const stream = sessionStream(sessions, per, t0);
    const lastTs = stream.at(-1)?.ts ?? t0;
    // events two hours after the last one, on every partition, close every session
    const closers = Array.from({ length: 60 }, (_, i) => ({ key: `closer-${i}`, value: JSON.stringify({ eventId: `c-${i}`, sessionId: `closer-${i}`, userId: null, timestamp: lastTs + 2 * 3600_000, type: 'page_view', page: '/', durationMs: null, value: null, properties: {} }) }));

    const args = (signals: string, group: string) => ['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--group', group, '--output-format', 'json', '--metrics-port', '0', '--log-level', 'info'];
    const ref = startCli(args(refSignals, uniqueName('g-ref')));
    onTestFinished(() => ref.kill('SIGKILL'));
    let chaosGroup = uniqueName('g-chaos');
    let proc: CliProcess = startCli(args(chaosSignals, chaosGroup));
    onTestFinished(() => proc.kill('SIGKILL'));

    // the stream is produced while the chaos processor is killed and restarted
    let produced = 0;
    const producing = (async () => {
      for (let i = 0; i < stream.length; i += chunk) {
        await produce(kafka, input, stream.slice(i, i + chunk).map(({ key, value }) => ({ key, value })));
        produced = Math.min(stream.length, i + chunk);
        await sleep(size(1_000, 1_000));
      }
      await produce(kafka, input, closers);
    })();
    const chaosOut = await collect(kafka, chaosSignals);
    onTestFinished(() => chaosOut.stop());

    const refOut = await collect(kafka, refSignals);
    onTestFinished(() => refOut.stop());
    const finalCount = (ms: typeof refOut.messages) => new Set(ms.map((m) => JSON.parse(String(m.value)) as Signal).filter((s) => s.final).map((s) => s.sessionId)).size;
    const progress = setInterval(() => {
      process.stderr.write(`[chaos:crash] +${Date.now() - started} ms: produced ${produced}/${stream.length}, reference ${refOut.messages.length} signals / ${finalCount(refOut.messages)} finals, chaos ${chaosOut.messages.length} / ${finalCount(chaosOut.messages)}\n`);
    }, 10_000);
    onTestFinished(() => clearInterval(progress));
    const rng = new Rng(Date.now() % 100_000);
    const killedAt: { afterMs: number; produced: number; finalsSoFar: number; marksCopied: number }[] = [];
    const restarts: CliProcess[] = [];
    for (let k = 0; k < kills; k++) {
      await proc.waitForOutput(/journeylens is running/, 120_000);
      // at a random point once this process has published (so it has committed, with replay
      // marks, what a restart resumes from), unless everything is out already
      const before = chaosOut.messages.length;
      await waitUntil(() => chaosOut.messages.length > before || finalCount(chaosOut.messages) >= sessions, 120_000, 'the restarted processor to publish');
      const wait = rng.int(200, size(3_500, 20_000));
      await sleep(wait);
      proc.kill('SIGKILL');
      await proc.exited;
      const finalsSoFar = chaosOut.messages.filter((m) => (JSON.parse(String(m.value)) as Signal).final).length;
      // A SIGKILLed member stays in its group until the 30 s session timeout, and a restart under
      // the same group id waits for it. The restart continues instead under a fresh group id
      // holding exactly the offsets the dead one committed: what the same group would resume
      // from, without a 30 s pause per kill (figures for same-group restarts: the outage scenario).
      const next = uniqueName('g-chaos');
      const marksCopied = await copyOffsets(kafka, chaosGroup, next, input);
      killedAt.push({ afterMs: wait, produced, finalsSoFar, marksCopied });
      chaosGroup = next;
      proc = startCli(args(chaosSignals, chaosGroup));
      restarts.push(proc);
    }
    await producing;

    await refOut.waitFor((ms) => finalCount(ms) >= sessions, size(120_000, 900_000), `final signals of all ${sessions} sessions (reference)`);
    const recoveryStart = Date.now();
    await chaosOut.waitFor((ms) => finalCount(ms) >= sessions, size(120_000, 900_000), `final signals of all ${sessions} sessions (after ${kills} kills)`);
    const catchUpMs = Date.now() - recoveryStart;
    await sleep(2000);
    ref.kill('SIGTERM');
    proc.kill('SIGTERM');
    await Promise.all([ref.exited, proc.exited]);

    // a restart that found replay marks says so once it read them
    const rebuilt = restarts.filter((p) => /rebuilding sessions from committed offsets/.test(p.stdout() + p.stderr())).length;
    const marksCopied = killedAt.filter((k) => k.marksCopied > 0).length;
    const refSig = refOut.messages.map((m) => JSON.parse(String(m.value)) as Signal);
    const chaosSig = chaosOut.messages.map((m) => JSON.parse(String(m.value)) as Signal);
    const refFinals = finals(refSig);
    const chaosFinals = finals(chaosSig);
    // each signalId stands for one content: a repeat is an exact copy (emittedAt aside)
    const byId = new Map<string, string>();
    let repeats = 0;
    const conflicts: string[] = [];
    const conflictExamples: unknown[] = [];
    for (const s of chaosSig) {
      const { emittedAt: _t, ...content } = s;
      const key = JSON.stringify(content);
      const prev = byId.get(s.signalId);
      if (prev === undefined) byId.set(s.signalId, key);
      else if (prev === key) repeats++;
      else {
        conflicts.push(s.signalId);
        const before = JSON.parse(prev) as Record<string, unknown>;
        if (conflictExamples.length < 3) conflictExamples.push({ signalId: s.signalId, final: s.final, differs: Object.fromEntries(Object.entries(content).filter(([k, v]) => JSON.stringify(before[k]) !== JSON.stringify(v)).map(([k, v]) => [k, [before[k], v]])) });
      }
    }
    // a reference final is present after the crashes when a final with the same content is
    const contentOf = (x: Signal) => {
      const { emittedAt: _t, ...content } = x;
      return JSON.stringify(content);
    };
    const missing = [...refFinals].filter(([session, [r]]) => !(chaosFinals.get(session) ?? []).some((c) => contentOf(c) === contentOf(r!)));
    const differing = [...refFinals].filter(([session, [r]]) => (chaosFinals.get(session) ?? []).some((c) => contentOf(c) !== contentOf(r!)));
    const extraFinals = [...chaosFinals.keys()].filter((k) => !refFinals.has(k));
    report('crash', {
      events,
      sessions,
      kills: killedAt,
      referenceFinals: refFinals.size,
      chaosFinals: chaosFinals.size,
      referenceFinalsMissing: missing.length,
      sessionsWithAnExtraDifferentFinal: differing.length,
      example: differing.slice(0, 3).map(([session, [r]]) => ({ session, reference: r?.eventCount, afterCrashes: chaosFinals.get(session)?.map((c) => c.eventCount) })),
      extraFinals: extraFinals.length,
      signalsReference: refSig.length,
      signalsChaos: chaosSig.length,
      restartsWithReplayMarks: marksCopied,
      restartsRebuildingBelowTheMark: rebuilt,
      exactRepeats: repeats,
      conflictingIds: conflicts.length,
      conflictExamples,
      catchUpAfterLastRestartMs: catchUpMs,
      elapsedMs: Date.now() - started,
    });
    expect(refFinals.size).toBe(sessions);
    for (const [, fs] of refFinals) expect(fs.length).toBe(1);
    // nothing missing: every session's reference final is among the outputs after the crashes
    expect(missing.map(([k]) => k)).toEqual([]);
    expect(extraFinals).toEqual([]);
    // no conflicting finals: a session's only final is the reference one, and a repeated
    // signalId is an exact copy
    expect(differing.map(([k]) => k)).toEqual([]);
    expect(conflicts).toEqual([]);
    // the restarts resumed from offsets carrying replay marks, and records below them were
    // re-read without publishing again
    expect(marksCopied).toBeGreaterThan(0);
    expect(rebuilt).toBeGreaterThan(0);
  }, size(600_000, 2_400_000));
});
