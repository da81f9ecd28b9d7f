// The model bundle as users meet it: `run` refuses a tampered bundle at start (non-zero exit,
// the message names the file), and a tampered bundle on hot reload is refused while the old
// model keeps serving, logged and counted.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
});
