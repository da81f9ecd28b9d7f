// The model bundle as users meet it: `run` refuses a tampered bundle at start (non-zero exit,
// the message names the file; before it contacts Kafka), SIGHUP alone swaps in a good bundle
// under a running stream, and a tampered bundle on hot reload is refused while the old model
// keeps serving, logged and counted.
import { cpSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { defaultBundleDir } from '../../src/model/runtime.ts';
import { runCli, startCli } from '../helpers/cli.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../../src/local-kafka/local-kafka.ts';

const brokers = inject('kafkaBrokers');

function bundleCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'jl-bundle-')), 'bundle');
  cpSync(defaultBundleDir(), dir, { recursive: true });
  return dir;
}

function flipOneByte(file: string): void {
  const b = readFileSync(file);
  const i = Math.floor(b.length / 2);
  b[i] = (b[i] as number) ^ 0x01;
  writeFileSync(file, b);
}

/** Points `link` at `target` in one rename, the way a deployment flips the live bundle. */
function pointAt(link: string, target: string): void {
  symlinkSync(target, `${link}.next`);
  renameSync(`${link}.next`, link);
}

function withVersion(dir: string, modelVersion: string): void {
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), modelVersion }, null, 2));
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function events(n: number, prefix: string, t0: number) {
  return Array.from({ length: n }, (_, i) => {
    const ev = { eventId: `${prefix}-${i}`, sessionId: `${prefix}-s${i % 5}`, userId: null, timestamp: t0 + i * 5000, type: i % 3 === 0 ? 'search' : 'product_view', page: '/product/1', durationMs: 3000, value: null, properties: {} };
    return { key: ev.sessionId, value: JSON.stringify(ev) };
  });
}

describe('model bundle verification (real broker)', () => {
  it('refuses a bundle with one byte changed in the weights at start, naming the file', async () => {
    const dir = bundleCopy();
    flipOneByte(join(dir, 'encoder.weights.bin'));
    const res = await runCli(['run', '--brokers', brokers, '--input', uniqueName('clicks'), '--bundle', dir, '--metrics-port', '0']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`model bundle ${dir} refused: encoder.weights.bin does not match its checksum in manifest.json`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a tampered bundle before it contacts Kafka: with the broker down the user hears about the bundle', async () => {
    const dir = bundleCopy();
    flipOneByte(join(dir, 'encoder.weights.bin'));
    // nothing listens there: the broker is down
    const down = `127.0.0.1:${await freePort()}`;
    const res = await runCli(['run', '--brokers', down, '--input', uniqueName('clicks'), '--bundle', dir, '--metrics-port', '0', '--connect-timeout-ms', '60000']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`model bundle ${dir} refused: encoder.weights.bin does not match its checksum in manifest.json`);
    expect(res.stderr).not.toContain('cannot reach Kafka');
  });

  it('keeps serving the old model when a tampered bundle arrives on hot reload, and logs and counts the refusal', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals]);
    const dir = bundleCopy();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { modelVersion: string };
    const proc = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--output-format', 'json', '--bundle', dir, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--group', uniqueName('g')]);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    const url = /"metrics":"(http:\/\/[^"]+)"/.exec(proc.stderr())?.[1] as string;
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());

    const t0 = Date.UTC(2026, 10, 1);
    await produce(kafka, input, events(20, 'before', t0));
    await out.waitFor((ms) => ms.length > 0, 30_000, 'signals before the reload');

    flipOneByte(join(dir, 'encoder.weights.bin'));
    proc.child.kill('SIGHUP');
    await proc.waitForOutput(/model bundle refused; the previous model keeps serving/, 30_000);
    expect(proc.stderr()).toContain('encoder.weights.bin does not match its checksum');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/journeylens_model_reloads_total\{outcome="refused"\} [1-9]/);
    expect(metrics).toContain(`journeylens_model_info{version="${manifest.modelVersion}"`);

    const seen = out.messages.length;
    await produce(kafka, input, events(20, 'after', t0 + 60_000));
    await out.waitFor((ms) => ms.slice(seen).some((m) => JSON.parse(String(m.value)).sessionId.startsWith('after-')), 30_000, 'signals after the refused reload');
    const after = out.messages.slice(seen).map((m) => JSON.parse(String(m.value)) as { modelVersion: string; clusterId: number });
    expect(after.every((s) => s.modelVersion === manifest.modelVersion && s.clusterId >= -1)).toBe(true);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
  it('swaps in a good bundle on SIGHUP alone under a running stream (sessions kept, every signal published), then refuses a tampered one', async () => {
    const kafka = testKafka(brokers);
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals]);
    // Both bundles are in place before the start; --bundle is a symlink flipped in one rename.
    // The directory watcher watches the target the link had, which never changes: SIGHUP is the
    // only thing that can make this reload happen.
    const base = mkdtempSync(join(tmpdir(), 'jl-reload-'));
    const [v1, v2, v3, live] = ['v1', 'v2', 'v3', 'current'].map((d) => join(base, d)) as [string, string, string, string];
    cpSync(defaultBundleDir(), v1, { recursive: true });
    cpSync(defaultBundleDir(), v2, { recursive: true });
    cpSync(defaultBundleDir(), v3, { recursive: true });
    const first = (JSON.parse(readFileSync(join(v1, 'manifest.json'), 'utf8')) as { modelVersion: string }).modelVersion;
    const second = `${first}-sighup`;
    withVersion(v2, second);
    withVersion(v3, `${first}-tampered`);
    flipOneByte(join(v3, 'encoder.weights.bin'));
    pointAt(live, v1);

    const proc = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--output-format', 'json', '--bundle', live, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--group', uniqueName('g'), '--tick-ms', '100']);
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    const url = /"metrics":"(http:\/\/[^"]+)"/.exec(proc.stderr())?.[1] as string;
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    type Sig = { sessionId: string; eventCount: number; modelVersion: string };
    const sigs = () => out.messages.map((m) => JSON.parse(String(m.value)) as Sig);
    const counts = () => {
      const best = new Map<string, number>();
      for (const s of sigs()) best.set(s.sessionId, Math.max(best.get(s.sessionId) ?? 0, s.eventCount));
      return best;
    };
    const allAt = (n: number) => () => counts().size === 5 && [...counts().values()].every((c) => c === n);

    // 5 sessions, one event each per step: step i is event i of session s{i % 5}
    const t0 = Date.UTC(2026, 10, 1);
    const step = (i: number) => {
      const ev = { eventId: `e-${i}`, sessionId: `s${i % 5}`, userId: null, timestamp: t0 + i * 5000, type: i % 3 === 0 ? 'search' : 'product_view', page: '/product/1', durationMs: 3000, value: null, properties: {} };
      return { key: ev.sessionId, value: JSON.stringify(ev) };
    };
    const steps = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => step(from + k));
    await produce(kafka, input, steps(0, 50));
    await out.waitFor(allAt(10), 60_000, 'every session at 10 events on the first bundle');

    // the stream keeps flowing while the bundle is swapped: ticks are in flight on the old scorer
    const streaming = (async () => {
      for (let i = 50; i < 250; i += 10) {
        await produce(kafka, input, steps(i, i + 10));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    pointAt(live, v2);
    proc.child.kill('SIGHUP');
    await proc.waitForOutput(/model bundle reloaded/, 60_000);
    await streaming;
    await proc.waitForOutput(/previous model closed after its last batch/, 60_000);
    await produce(kafka, input, steps(250, 300));
    await out.waitFor(allAt(60), 60_000, 'every session at 60 events');

    const reloads = logLines(proc.stderr()).filter((l) => l.msg === 'model bundle reloaded');
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({ why: 'SIGHUP', previous: first, modelVersion: second });
    const closed = logLines(proc.stderr()).find((l) => l.msg === 'previous model closed after its last batch');
    process.stderr.write(`[reload] SIGHUP reload: ${String(reloads[0]?.previousBatchesInFlight)} batches in flight on the old scorer at the swap, ${String(closed?.batchesAnswered)} answered before it closed\n`);
    const all = sigs();
    // sessions kept: every session went on counting from where it was (a lost session restarts at 1)
    for (const id of ['s0', 's1', 's2', 's3', 's4']) {
      const mine = all.filter((s) => s.sessionId === id);
      expect(mine.map((s) => s.eventCount)).toEqual([...mine.map((s) => s.eventCount)].sort((a, b) => a - b));
      // one partition per session: the first bundle's signals all come before the second's
      const versions = mine.map((s) => s.modelVersion);
      const switchAt = versions.indexOf(second);
      expect(switchAt).toBeGreaterThan(0);
      expect(versions.slice(0, switchAt).every((v) => v === first)).toBe(true);
      expect(versions.slice(switchAt).every((v) => v === second)).toBe(true);
      expect(mine.at(-1)).toMatchObject({ eventCount: 60, modelVersion: second });
    }
    // every signal published: what the processor counted is what the topic holds
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const published = [...metrics.matchAll(/^journeylens_signals_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(published).toBe(all.length);
    expect(metrics).toMatch(/journeylens_model_reloads_total\{outcome="loaded"\} 1\b/);
    expect(metrics).toContain(`journeylens_model_info{version="${second}"`);

    // the refusal path, SIGHUP only as well: the tampered bundle is refused, the second keeps serving
    pointAt(live, v3);
    proc.child.kill('SIGHUP');
    await proc.waitForOutput(/model bundle refused; the previous model keeps serving/, 60_000);
    expect(proc.stderr()).toContain('encoder.weights.bin does not match its checksum');
    const seen = out.messages.length;
    await produce(kafka, input, steps(300, 350));
    await out.waitFor(allAt(70), 60_000, 'every session at 70 events after the refusal');
    expect(sigs().slice(seen).every((s) => s.modelVersion === second)).toBe(true);
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/journeylens_model_reloads_total\{outcome="refused"\} 1\b/);
    expect(after).toContain(`journeylens_model_info{version="${second}"`);
    expect(proc.stderr()).not.toMatch(/pipeline failed|scoring pool is closed/);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
