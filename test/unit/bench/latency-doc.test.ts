// bench:doc's latency section from a latency result with both passthroughs: the max-live ratio is
// taken against the passthrough producing with the processor's own producer, the sentences about
// it are computed from the figures, and a phase the load generator failed is not read as the
// subject's limit. Rendered with --out into a temporary file (docs/benchmarks.md is not touched).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'jl-latency-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const latency = { samples: 1000, p50Ms: 20, p90Ms: 40, p99Ms: 90, maxMs: 120 };
type Limit = 'subject' | 'generator' | null;
const phase = (subject: string, rate: number, pass: boolean, limitedBy: Limit = pass ? null : 'subject', failReason?: string) => ({
  subject,
  rate,
  phaseSeconds: 30,
  sent: rate * 30,
  achievedRate: limitedBy === 'generator' ? Math.round(rate * 0.8) : rate,
  handled: rate * 30,
  caughtUp: pass,
  maxLagSecondHalf: 100,
  catchUpSeconds: pass ? 0.1 : null,
  pass,
  limitedBy,
  ...(failReason ? { failReason } : {}),
  latency,
});
const latencyPhase = (load: number) => ({
  ...phase('processor (--emit every)', 10_000 * load, true),
  load,
  signals: 10_000 * load * 30,
  unchanged: 0,
  ticks: 100,
  deliveries: 90,
  mainThreadUtilisation: 0.5,
  mainThreadMicrosPerEvent: 40,
  scoringMicrosPerScored: { rasterize: 5, encode: 30, assign: 5, neighbours: 20, readout: 5 },
  scoringWorkers: 1,
});
const plan = { start: 15_000, growth: 2, ceiling: 500_000, maxPhases: 8, resolution: 1.05 };

function result(): unknown {
  return {
    at: '2026-11-29T19:00:00.000Z',
    quick: false,
    command: 'npm run bench -- latency',
    seconds: 900,
    skipped: [],
    results: {
      latency: {
        bench: 'latency',
        quick: false,
        sessions: 20_000,
        handled: 'delivered',
        warmupSeconds: 5,
        processorProducer: 'platformatic',
        loadGenerator: { client: 'platformatic', acks: 1, keepsAtLeast: 0.97 },
        maxLiveRate: {
          searchPlans: { kafkajsPassthrough: plan, platformaticProducerPassthrough: plan, passthroughsInTurn: true, processor: { ...plan, start: 10_000, growth: 1.5 } },
          processor: { eventsPerSecond: 10_000, resolved: true, generatorLimitedAt: null, phases: [phase('processor', 10_000, true), phase('processor', 15_000, false)] },
          processorEmitChange: { eventsPerSecond: 12_000, resolved: true, generatorLimitedAt: null, phases: [phase('processor', 12_000, true), phase('processor', 13_000, false)] },
          // kafkajs's producer: the passthrough itself failed above its maximum
          kafkajsPassthrough: { eventsPerSecond: 20_000, resolved: true, generatorLimitedAt: null, phases: [phase('pt', 20_000, true), phase('pt', 25_000, false, 'subject', 'stopped at 9.8 s: lag 60000 events (over 2 s of events) in the second half')] },
          // @platformatic/kafka's producer: only the load generator failed above it
          platformaticProducerPassthrough: {
            eventsPerSecond: 40_000,
            resolved: false,
            generatorLimitedAt: 45_000,
            phases: [phase('pt', 40_000, true), phase('pt', 45_000, false, 'generator', 'the load generator kept 36000/s, under 97 % of the rate')],
          },
          ratioTo: 'platformaticProducerPassthrough',
          ratioToPassthrough: 0.25,
          ratioToPassthroughEmitChange: 0.3,
          ratioToKafkajsProducerPassthrough: 0.5,
          platformaticToKafkajsProducerPassthrough: 2,
        },
        phases: [latencyPhase(0.25), latencyPhase(0.5), latencyPhase(0.75)],
        emitChangeAt50: { ...latencyPhase(0.5), subject: 'processor (--emit change)' },
        baselines: {
          kafkajsPassthroughAt50: { ...phase('passthrough (kafkajs producer)', 5_000, true), load: 0.5, latency: { ...latency, p99Ms: 77 } },
          platformaticProducerPassthroughAt50: { ...phase('passthrough (@platformatic/kafka producer)', 5_000, true), load: 0.5, latency: { ...latency, p99Ms: 33 } },
        },
        target: { maxLiveToPassthroughAtLeast: 0.5, maxLiveEventsPerSecondAtLeast: 30_000, p99MsAt50AtMost: 250, p50MsAt50AtMost: 100, p99MsAt25AtMost: 150 },
      },
    },
  };
}

function render(): string {
  const input = join(dir, 'latest.json');
  const out = join(dir, 'benchmarks.md');
  writeFileSync(input, JSON.stringify(result()));
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', '_doc.ts'), input, '--out', out], { cwd: root, encoding: 'utf8' });
  expect(res.status, res.stderr).toBe(0);
  return readFileSync(out, 'utf8');
}

describe('bench:doc, latency section', () => {
  const page = render();

  it("takes the max-live ratio against the passthrough with the processor's producer, and says the other one's figure", () => {
    const summary = page.split('\n').find((l) => l.startsWith('| Max live rate ≥ 0.5'))!;
    expect(summary).toContain("passthrough with @platformatic/kafka's producer 40,000 events/s (at 45,000 the load generator could not keep the rate)");
    expect(summary).toContain("passthrough with kafkajs's producer 20,000 events/s (25,000 failed)");
    // 10,000 / 40,000 = 0.25, missed, and only an upper bound because the generator set the bracket
    expect(summary).toMatch(/\*\*missed\*\* by 0\.25 .* only an upper bound \(at 45,000 events\/s the load generator, not the subject, could not keep the rate\)/);
    expect(page).toContain("(0.25 of the 40,000 events/s of the passthrough with @platformatic/kafka's producer)");
    expect(page).toContain("The passthrough with kafkajs's producer reached 20,000 events/s in the same run, so @platformatic/kafka's producer carried 2× as much");
    expect(page).toContain("against that one the processor's ratio would be 0.5.");
    expect(page).toContain('with each producer, the two searches taking their phases in turn so that both see the same load');
  });

  it('marks a phase the load generator failed as such, with its reason, and the passthrough p99 of the same producer', () => {
    expect(page).toMatch(/\| passthrough, @platformatic\/kafka's producer \| 45,000 \| 30 \| 36,000 \| .* the load generator kept 36000\/s, under 97 % of the rate \| fail \(generator\) \|/);
    expect(page).toMatch(/\| passthrough, kafkajs's producer \| 25,000 \| .* stopped at 9\.8 s: lag 60000 events .* \| fail \|/);
    expect(page).toContain("passthrough with @platformatic/kafka's producer ≥ 40,000 (at 45,000 events/s the load generator, not the subject, could not keep the rate)");
    expect(page.split('\n').find((l) => l.startsWith('| p99 at 50%'))).toContain('passthrough p99 33 ms');
    expect(page).toContain("| baseline: passthrough, @platformatic/kafka's producer, at 50% |");
    expect(page).toContain("| baseline: passthrough, kafkajs's producer, at 50% |");
  });
});
