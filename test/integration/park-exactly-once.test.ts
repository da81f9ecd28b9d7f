// Parking under --exactly-once: a CRM that refuses every request makes the webhook give up on
// each alert and park it. In exactly-once mode the processor's producer is transactional; the
// parked copies (and the delivered marks) go out beside its transactions, and every alert a
// read_committed reader sees on the alerts topic must be on the parked topic, once, while the
// pipeline keeps committing. Real broker, real HTTP server.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { type ChurnAlert } from '../../src/contracts/records.ts';
import { createLogger } from '../../src/log.ts';
import { alertStateTopicFor, readAlertState } from '../../src/processor/alert-state.ts';
import { startApp } from '../../src/processor/app.ts';
import { writeSimulationFiles } from '../../src/sim/files.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const SECRET = `whsec_${Buffer.from('journeylens-park-eos-webhook-32b').toString('base64')}`;

describe('parking under --exactly-once (real broker, real HTTP server)', () => {
  it('parks every alert the CRM refuses, once each, and keeps committing', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        res.writeHead(503).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`;

    const kafka = testKafka(brokers);
    const [input, signals, alerts] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts')];
    const parked = `${alerts}.parked`;
    await createTopics(kafka, [input, signals, alerts, parked]);
    const dir = mkdtempSync(join(tmpdir(), 'jl-park-eos-'));
    await writeSimulationFiles({ seed: 8, sessions: 150, outDir: dir });
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    await produce(kafka, input, lines.map((l) => ({ key: (JSON.parse(l) as { sessionId: string }).sessionId, value: l })));

    const group = uniqueName('g');
    const flags = { brokers, input, signalsTopic: signals, alertsTopic: alerts, outputFormat: 'json', webhookUrl: url, webhookMaxAttempts: '1', group, exactlyOnce: true, transactionalId: `${group}-tx`, metricsPort: '0', metricsHost: '127.0.0.1' };
    process.env.JOURNEYLENS_WEBHOOK_SECRET = SECRET;
    onTestFinished(() => {
      delete process.env.JOURNEYLENS_WEBHOOK_SECRET;
    });
    const app = await startApp(resolveConfig(runOptions, flags), { flags, log: createLogger({ level: 'error' }) });
    onTestFinished(() => app.stop());
    const [onAlerts, onParked] = await Promise.all([collect(kafka, alerts, { readCommitted: true }), collect(kafka, parked, { readCommitted: true })]);
    onTestFinished(() => Promise.all([onAlerts.stop(), onParked.stop()]).then(() => undefined));

    const deadline = Date.now() + 120_000;
    while (app.processor.stats.events < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(app.processor.stats.events).toBe(lines.length);
    // settled: both topics agree twice in a row (alerts commit only after their park was acknowledged)
    let stable = 0;
    let last = -1;
    const settleBy = Date.now() + 90_000;
    while (stable < 2 && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 1500));
      const n = onAlerts.messages.length;
      stable = n > 0 && n === last && onParked.messages.length === n ? stable + 1 : 0;
      last = n;
    }
    const raised = onAlerts.messages.map((m) => (JSON.parse(String(m.value)) as ChurnAlert).alertId).sort();
    const parkedIds = onParked.messages.map((m) => (JSON.parse(String(m.value)) as ChurnAlert).alertId).sort();
    const reasons = new Set(onParked.messages.map((m) => String(m.headers?.['x-journeylens-error-message'] ?? '')));
    const state = await readAlertState(kafka, alertStateTopicFor(alerts), uniqueName('probe'), createLogger({ level: 'silent' }));
    process.stderr.write(`[park-exactly-once] ${lines.length} events, ${raised.length} alerts committed, ${parkedIds.length} parked, ${requests} requests, ${state.delivered.size} delivered marks left open\n`);

    expect(raised.length).toBeGreaterThan(5);
    expect(new Set(raised).size).toBe(raised.length);
    expect(parkedIds).toEqual(raised);
    expect(requests).toBe(raised.length);
    expect([...reasons].every((r) => /503/.test(r))).toBe(true);
  });
});
