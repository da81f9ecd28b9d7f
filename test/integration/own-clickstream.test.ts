// Issue 17 on the real broker: a user's own clickstream, in a shape that is not ours (other field
// names, integer ids, ms / ISO timestamps, their own type names, no eventId, no labels), from
// `inspect` to live signals. The first test types docs/quickstart.md's commands as written
// (through a shell, with the doc's broker and topic pointed at this test's); the second drives
// the CLI with another shape. Both check what a user would: the signals spread over clusters,
// few events in "other", and the sessions `run` closes are those of an offline sessionization.
//
// The quickstart's sessions have no pause inside; the second shape has pauses of hours inside a
// fifth of the visits, which the gap splits (issue 17, first bullet).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { type KafkaMessage } from 'kafkajs';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { defaultSessionizationSpec } from '../../src/journey/image-spec.ts';
import { binPath, runCli, startCli, type CliProcess } from '../helpers/cli.ts';
import { codeBlocks } from '../helpers/docs.ts';
import { foreignClickstream, quickstartRecord, referenceSessions, type ForeignSession } from '../helpers/foreign-clickstream.ts';
import { collect, createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const PARTITIONS = 3;
const GAP = defaultSessionizationSpec.gapMs;
const LATENESS = defaultSessionizationSpec.allowedLatenessMs;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jl-own-'));
  dirs.push(d);
  return d;
}

const partitionOf = (visit: number): number => visit % PARTITIONS;

/** Produces the records with their session as the key, each session on a partition of its own choosing (known to the reference). */
async function produceRecords(topic: string, records: { visit: number; value: object }[]): Promise<void> {
  const kafka = testKafka(brokers);
  await createTopics(kafka, [topic], PARTITIONS);
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 1000) {
      const chunk = records.slice(i, i + 1000);
      await producer.send({ topic, messages: chunk.map((r) => ({ key: String(r.visit), value: JSON.stringify(r.value), partition: partitionOf(r.visit) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * The sessions `run` must have closed by the end of the topic: a session (a session id's events
 * cut by the gap, as the reference cuts them) closes when its partition's watermark (newest
 * event time − allowed lateness) passes its last event + the gap. Those within a second of the
 * border are left out (either is right).
 */
function mustClose(sessions: readonly ForeignSession[]): Set<string> {
  const newest = new Map<number, number>();
  for (const s of sessions) newest.set(partitionOf(s.visit), Math.max(newest.get(partitionOf(s.visit)) ?? 0, s.times.at(-1)!));
  const out = new Set<string>();
  for (const s of sessions) {
    let first = s.times[0]!;
    for (let i = 0; i < s.times.length; i++) {
      const last = s.times[i]!;
      const next = s.times[i + 1];
      if (next !== undefined && next - last <= GAP) continue;
      if (newest.get(partitionOf(s.visit))! - LATENESS > last + GAP + 1000) out.add(`${s.visit}@${first}`);
      if (next !== undefined) first = next;
    }
  }
  return out;
}

/** journeylens_events_total summed over its labels, from the run's /metrics. */
async function eventsSeen(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('journeylens_events_total{')) n += Number(line.split(' ').at(-1));
  return n;
}

interface Signal {
  sessionId: string;
  eventCount: number;
  windowStart: number;
  clusterId: number;
  novel: boolean;
  final: boolean;
  modelVersion: string;
}

/**
 * Waits until `run` has read every record and closed every session that must close, stops it,
 * and returns the figures: its signals, and its last model-fit report.
 */
async function watchRun(proc: CliProcess, signalsTopic: string, total: number, sessions: readonly ForeignSession[]) {
  await proc.waitForOutput(/"msg":"journeylens is running"/, 120_000);
  const metricsUrl = /"metrics":"(http:\/\/[^"]+)"/.exec(proc.stderr())![1]!;
  const out = await collect(testKafka(brokers), signalsTopic);
  onTestFinished(() => out.stop());
  const deadline = Date.now() + 180_000;
  while ((await eventsSeen(metricsUrl)) < total) {
    if (Date.now() > deadline) throw new Error(`run read ${await eventsSeen(metricsUrl)} of ${total} records; stderr:\n${proc.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const closing = mustClose(sessions);
  const parse = (ms: KafkaMessage[]): Signal[] => ms.map((m) => JSON.parse(String(m.value)) as Signal);
  await out.waitFor((ms) => parse(ms).filter((s) => s.final).length >= closing.size, 120_000, `final signals of the ${closing.size} sessions that must close`);
  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  const reports = proc
    .stderr()
    .split('\n')
    .filter((l) => l.includes('have an event type the model does not know'))
    .map((l) => JSON.parse(l) as { msg: string; events: number; unknownTypeShare: number; level: number });
  return { signals: parse(out.messages), closing, lastReport: reports.at(-1)! };
}

/** What a user should see from a model trained on their data (issue 17, must show). */
function expectMeaningfulSignals(signals: Signal[], closing: Set<string>, sessions: readonly ForeignSession[]) {
  const reference = referenceSessions(sessions, GAP);
  const finals = signals.filter((s) => s.final);
  // sessions: every closed one is a session of the offline sessionization, with all its events, once
  const closed = new Map(finals.map((s) => [`${s.sessionId}@${s.windowStart}`, s.eventCount]));
  expect(closed.size).toBe(finals.length);
  for (const [key, count] of closed) expect({ key, count }).toEqual({ key, count: reference.get(key) });
  for (const key of closing) expect(closed.has(key), `${key} closed`).toBe(true);
  // clusters: spread, not all one
  const clusters = new Map<number, number>();
  for (const s of finals) clusters.set(s.clusterId, (clusters.get(s.clusterId) ?? 0) + 1);
  expect(clusters.size).toBeGreaterThanOrEqual(3);
  expect(Math.max(...clusters.values()) / finals.length).toBeLessThan(0.8);
  return { finals: finals.length, reference: reference.size, clusters, novel: finals.filter((s) => s.novel).length };
}

describe("a user's own clickstream on the real broker", () => {
  it('docs/quickstart.md: its commands as written, on data of the shape it shows', { timeout: 600_000 }, async () => {
    const dir = workDir();
    const topic = uniqueName('clicks');
    const signalsTopic = uniqueName('signals');
    // the data the doc shows: same fields, same kinds of values
    const { records, sessions } = foreignClickstream({ users: 150, seed: 17, start: Date.UTC(2026, 2, 2), time: 's' });
    const shaped = records.map((r) => ({ visit: r.visit, value: quickstartRecord(r) }));
    const docRecord = JSON.parse(codeBlocks('docs/quickstart.md', 'json')[0]!) as Record<string, unknown>;
    const kinds = (o: object) => Object.entries(o).map(([k, v]) => [k, typeof v]);
    expect(kinds(shaped[0]!.value)).toEqual(kinds(docRecord));
    expect(shaped[0]!.value).toEqual(docRecord);
    await produceRecords(topic, shaped);

    // `journeylens` on the PATH, the doc's broker and topic pointed at ours; the run's group,
    // signals topic and metrics port come from the environment (the commands stay as written)
    writeFileSync(join(dir, 'journeylens'), `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`);
    chmodSync(join(dir, 'journeylens'), 0o755);
    const env = { PATH: `${dir}:${process.env.PATH}`, JOURNEYLENS_GROUP: uniqueName('g'), JOURNEYLENS_SIGNALS_TOPIC: signalsTopic, JOURNEYLENS_METRICS_PORT: '0', JOURNEYLENS_METRICS_HOST: '127.0.0.1' };
    const ours = (line: string) => line.replaceAll('localhost:9092', brokers).replace(/--topic clicks\b/g, `--topic ${topic}`);
    const commands = codeBlocks('docs/quickstart.md', 'sh').flatMap((b) => b.split('\n').filter((l) => l.startsWith('journeylens ')));
    expect(commands.map((c) => c.split(' ')[1])).toEqual(['inspect', 'train', 'run', 'render']);
    const shell = (line: string) => spawn('sh', ['-c', `exec ${ours(line)}`], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = async (line: string) => {
      const child = shell(line);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
      return { code, stdout, stderr };
    };
    const [inspectCmd, trainCmd, runCmd, renderCmd] = commands as [string, string, string, string];

    // 1. inspect: the config and the reasons the doc shows
    const inspect = await finish(inspectCmd);
    expect(inspect.code, inspect.stderr).toBe(0);
    const docConfig = JSON.parse(codeBlocks('docs/quickstart.md', 'json')[1]!) as Record<string, unknown>;
    const saved = JSON.parse(readFileSync(join(dir, 'journeylens.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toEqual({ ...docConfig, brokers, input: topic });
    const docReasons = codeBlocks('docs/quickstart.md', 'text')[0]!;
    expect(inspect.stderr.replaceAll(topic, 'clicks')).toContain(docReasons.split('\n').slice(0, -1).join('\n'));

    // 2. train on the history, labels from --churn-after
    const train = await finish(trainCmd);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(new RegExp(`^read ${records.length} records: ${records.length} events; \\d+ sessions$`, 'm'));
    expect(train.stderr).toMatch(/^event types: the default vocabulary, which covers the data \(1\.7% of events in "other"\)$/m);
    const labels = /labels from the history \(--churn-after 14d\): (\d+) sessions churned, (\d+) retained; (\d+) sessions/.exec(train.stderr);
    expect(labels, train.stderr).not.toBeNull();
    const [churned, retained] = [Number(labels![1]), Number(labels![2])];
    expect(churned).toBeGreaterThan(30);
    expect(retained).toBeGreaterThan(30);
    process.stderr.write(`[own-clickstream] quickstart train: ${train.stderr.split('\n').filter((l) => /^(read|labels|wrote| {2}cluster)/.test(l)).join(' | ')}\n`);

    // 3. run with that bundle on the broker
    const child = shell(runCmd);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', () => undefined);
    const exited = new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 128 : 1))));
    const proc: CliProcess = {
      child,
      stdout: () => '',
      stderr: () => err,
      exited,
      waitForOutput: async (re, ms) => {
        const deadline = Date.now() + ms;
        while (!re.test(err)) {
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${re} from run:\n${err.slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      kill: (signal = 'SIGTERM') => void (child.exitCode === null && child.kill(signal)),
    };
    onTestFinished(() => proc.kill('SIGKILL'));
    const { signals, closing, lastReport } = await watchRun(proc, signalsTopic, records.length, sessions);
    const figures = expectMeaningfulSignals(signals, closing, sessions);
    // "other": the doc's log line is this run's last report
    expect(lastReport.events).toBe(records.length);
    expect(lastReport.unknownTypeShare).toBeLessThan(0.05);
    const docLog = codeBlocks('docs/quickstart.md', 'text')[1]!;
    expect(docLog).toContain(`"msg":"${lastReport.msg}"`);
    process.stderr.write(
      `[own-clickstream] quickstart run: ${figures.finals} final signals (${closing.size} must close, ${figures.reference} reference sessions), clusters ${JSON.stringify([...figures.clusters])}, ${figures.novel} novel; ${lastReport.msg}\n`,
    );

    // 4. render one session with the bundle
    const render = await finish(renderCmd);
    expect(render.code, render.stderr).toBe(0);
    expect(existsSync(join(dir, 'session.png'))).toBe(true);
    expect(render.stderr).toMatch(/session 1212, \d+ events, .*; rows 1-\d+ show all \d+ events/);
  });

  it('another shape (visit, shopper, ISO time, action), with pauses of hours inside visits: inspect → train --churn-after from the topic → run', { timeout: 600_000 }, async () => {
    const dir = workDir();
    const topic = uniqueName('visits');
    const signalsTopic = uniqueName('signals');
    // a fifth of the visits pause for 2–17 hours: the gap must split them, as the reference does
    const { records, sessions } = foreignClickstream({ users: 120, seed: 23, start: Date.UTC(2026, 4, 10), time: 'iso', pauses: 0.2 });
    const split = referenceSessions(sessions, GAP).size - sessions.length;
    expect(split).toBeGreaterThan(30);
    await produceRecords(
      topic,
      records.map((r) => ({ visit: r.visit, value: r })),
    );
    const config = join(dir, 'journeylens.json');
    const inspect = await runCli(['inspect', '--brokers', brokers, '--topic', topic, '--out', config]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stderr).toMatch(/timestamp <- when: ISO-8601 strings/);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ brokers, input: topic, ingestion: { eventIdFallback: 'hash', mapping: { sessionId: 'visit', userId: 'shopper', page: 'aid' } } });

    const bundle = join(dir, 'model');
    const train = await runCli(['train', '--config', config, '--topic', topic, '--until', 'latest', '--churn-after', '14d', '--epochs', '3', '--out', bundle, '--no-progress'], {}, 300_000);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(new RegExp(`^read ${records.length} records: ${records.length} events`, 'm'));

    const proc = startCli(['run', '--config', config, '--bundle', bundle, '--signals-topic', signalsTopic, '--create-topics', '--output-format', 'json', '--group', uniqueName('g'), '--metrics-port', '0', '--metrics-host', '127.0.0.1']);
    onTestFinished(() => proc.kill('SIGKILL'));
    const { signals, closing, lastReport } = await watchRun(proc, signalsTopic, records.length, sessions);
    const figures = expectMeaningfulSignals(signals, closing, sessions);
    // the split visits: their id has two or more closed sessions
    const perVisit = new Map<string, number>();
    for (const s of signals.filter((x) => x.final)) perVisit.set(s.sessionId, (perVisit.get(s.sessionId) ?? 0) + 1);
    expect([...perVisit.values()].filter((n) => n > 1).length).toBeGreaterThan(20);
    expect(lastReport.events).toBe(records.length);
    expect(lastReport.unknownTypeShare).toBeLessThan(0.05);
    process.stderr.write(
      `[own-clickstream] ISO shape: ${records.length} records, ${split} visits split by a pause, ${figures.finals} final signals (${closing.size} must close, ${figures.reference} reference sessions), clusters ${JSON.stringify([...figures.clusters])}, ${figures.novel} novel; ${lastReport.msg}\n`,
    );
  });
});
