// Alerts end to end: simulated shoppers on the real broker → the processor with the default
// model → the alerts topic and a real local CRM receiver that fails a lot (500s, slow answers
// past the client timeout, 429 with Retry-After). Every alert on the topic reaches the CRM,
// each alertId is accepted exactly once, in per-session order, and the pipeline keeps going.
// The receiver checks every request with the standardwebhooks package, as a CRM would.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { type ChurnAlert } from '../../src/contracts/records.ts';
import { createLogger } from '../../src/log.ts';
import { writeSimulationFiles } from '../../src/sim/files.ts';
import { verifyWebhookSignature } from '../../src/sinks/webhook-signature.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const SECRET = `whsec_${Buffer.from('journeylens-test-webhook-key-32b').toString('base64')}`;

describe('churn alerts to the alerts topic and a flaky CRM webhook (real broker, real HTTP server)', () => {
  it('delivers every alert exactly once per alertId, in session order, through 500s, timeouts and 429s', async () => {
    let seq = 0;
    const accepted = new Map<string, ChurnAlert>();
    const order: ChurnAlert[] = [];
    const outcomes = { ok: 0, e500: 0, slow: 0, e429: 0, dup: 0, badSig: 0 };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let standard = true;
        try {
          new Webhook(SECRET).verify(body.toString('utf8'), req.headers as Record<string, string>);
        } catch {
          standard = false;
        }
        // the deprecated scheme rides along until receivers have moved
        const legacy = verifyWebhookSignature({ secret: SECRET, body, timestamp: req.headers['x-journeylens-timestamp'] as string, signature: req.headers['x-journeylens-signature'] as string });
        if (!standard || !legacy.ok) {
          outcomes.badSig++;
          res.writeHead(401).end();
          return;
        }
        // deterministic chaos: 30% 500, 10% answered after the client gave up, 10% 429
        const roll = (seq++ * 37) % 100;
        if (roll < 30) {
          outcomes.e500++;
          res.writeHead(500).end();
          return;
        }
        if (roll < 40) {
          outcomes.slow++;
          setTimeout(() => res.writeHead(503).end(), 1500);
          return;
        }
        if (roll < 50) {
          outcomes.e429++;
          res.writeHead(429, { 'retry-after': '1' }).end();
          return;
        }
        const key = req.headers['webhook-id'] as string;
        expect(req.headers['idempotency-key']).toBe(key);
        const alert = JSON.parse(body.toString('utf8')) as ChurnAlert;
        if (accepted.has(key)) outcomes.dup++;
        else {
          accepted.set(key, alert);
          order.push(alert);
        }
        outcomes.ok++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`;

    const kafka = testKafka(brokers);
    const [input, signals, alerts] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts')];
    await createTopics(kafka, [input, signals, alerts]);
    const dir = mkdtempSync(join(tmpdir(), 'jl-alerts-'));
    await writeSimulationFiles({ seed: 5, sessions: 400, outDir: dir });
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    await produce(kafka, input, lines.map((l) => ({ key: (JSON.parse(l) as { sessionId: string }).sessionId, value: l })));

    const flags = { brokers, input, signalsTopic: signals, alertsTopic: alerts, outputFormat: 'json', webhookUrl: url, webhookTimeoutMs: '800', webhookMaxAttempts: '30', group: uniqueName('g'), metricsPort: '0', metricsHost: '127.0.0.1' };
    process.env.JOURNEYLENS_WEBHOOK_SECRET = SECRET;
    onTestFinished(() => {
      delete process.env.JOURNEYLENS_WEBHOOK_SECRET;
    });
    const app = await startApp(resolveConfig(runOptions, flags), { flags, log: createLogger({ level: 'error' }) });
    onTestFinished(() => app.stop());
    const topic = await collect(kafka, alerts);
    onTestFinished(() => topic.stop());

    const deadline = Date.now() + 90_000;
    while (app.processor.stats.events < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // alerts on the topic are committed only after the webhook delivered them, and ticks are
    // pipelined: the CRM may hold alerts of ticks whose topic records are not committed yet while
    // retries back off. Settled = both sides agree on the count twice in a row (or the deadline).
    const settleBy = Date.now() + 120_000;
    let last = -1;
    let stable = 0;
    while (stable < 2 && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 1500));
      const n = topic.messages.length;
      stable = n > 0 && n === last && accepted.size === n ? stable + 1 : 0;
      last = n;
    }
    const onTopic = topic.messages.map((m) => JSON.parse(String(m.value)) as ChurnAlert);
    process.stderr.write(`[alerts-webhook] ${lines.length} events, ${onTopic.length} alerts, receiver: ${JSON.stringify(outcomes)}\n`);

    expect(onTopic.length).toBeGreaterThan(10);
    expect(outcomes.e500 + outcomes.slow + outcomes.e429).toBeGreaterThan(5);
    expect(outcomes.badSig).toBe(0);
    expect(new Set(onTopic.map((a) => a.alertId)).size).toBe(onTopic.length);
    expect([...accepted.keys()].sort()).toEqual(onTopic.map((a) => a.alertId).sort());
    // per-session order: the CRM saw each session's alerts in the order they were raised
    const bySession = (xs: ChurnAlert[]) => {
      const m = new Map<string, string[]>();
      for (const a of xs) m.set(a.sessionId, [...(m.get(a.sessionId) ?? []), a.alertId]);
      return m;
    };
    expect(bySession(order)).toEqual(bySession(onTopic));
    expect(app.processor.stats.events).toBe(lines.length);
  });
});
