// Alert policy → webhook → a real receiver, twice over the same input (a crash and a replay from
// the last commit): the replayed alerts carry the same ids, so the receiver takes each once.
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AlertPolicy, type RiskObservation } from '../../../src/sinks/alert-policy.ts';
import { type ChurnAlert } from '../../../src/contracts/records.ts';
import { WebhookSink } from '../../../src/sinks/webhook.ts';
import { verifyWebhookSignature } from '../../../src/sinks/webhook-signature.ts';

function observations(): RiskObservation[] {
  const out: RiskObservation[] = [];
  for (let s = 0; s < 20; s++) {
    // Each session wobbles around 0.5, climbs past 0.75, dips to 0.3 and climbs again.
    const risks = [0.2, 0.48, 0.52, 0.49, 0.55, 0.7, 0.8, 0.74, 0.78, 0.3, 0.6, 0.9];
    risks.forEach((risk, i) =>
      out.push({
        sessionId: `s${s}`,
        userId: `u${s}`,
        signalId: `sig-${s}-${i}`,
        lastEventId: `e-${s}-${i}`,
        eventTime: 1_700_000_000_000 + i * 60_000,
        eventCount: i + 1,
        churnRisk: risk,
        clusterId: s % 3,
        clusterLabel: ['browsers', 'deal hunters', 'frustrated support-seeker'][s % 3] as string,
        modelVersion: 'm1',
        steps: ['search', 'checkout', 'support_contact', 'support_contact'],
      }),
    );
  }
  return out;
}

describe('alerts from the policy through the webhook', () => {
  it('delivers a replayed run without a single duplicate reaching the CRM', async () => {
    const accepted = new Map<string, ChurnAlert>();
    let duplicates = 0;
    let badSignatures = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ok = verifyWebhookSignature({ secret: 's3cret', body, timestamp: req.headers['x-journeylens-timestamp'] as string, signature: req.headers['x-journeylens-signature'] as string }).ok;
        if (!ok) {
          badSignatures++;
          res.writeHead(401).end();
          return;
        }
        const key = req.headers['idempotency-key'] as string;
        if (accepted.has(key)) duplicates++;
        else accepted.set(key, JSON.parse(body.toString('utf8')) as ChurnAlert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`;
    try {
      const runOnce = async () => {
        const policy = new AlertPolicy({ mediumThreshold: 0.5, highThreshold: 0.75, minEvents: 2, cooldownMs: 0 });
        const sink = new WebhookSink<ChurnAlert>({ url, secret: 's3cret', park: () => undefined, concurrency: 4 });
        const raised: string[] = [];
        for (const o of observations()) {
          const a = policy.observe(o);
          if (!a) continue;
          raised.push(a.alertId);
          if (!sink.enqueue(a)) await sink.whenDrained();
        }
        await sink.flush();
        sink.close();
        return raised;
      };
      const first = await runOnce();
      const replay = await runOnce();
      expect(replay).toEqual(first);
      // Per session: medium once (the wobble around 0.5 does not re-alert), high, then after the
      // dip to 0.3 medium and high again.
      expect(first).toHaveLength(20 * 4);
      expect([...accepted.values()].filter((a) => a.sessionId === 's0').map((a) => `${a.previousBand}→${a.riskBand}`)).toEqual(['low→medium', 'medium→high', 'low→medium', 'medium→high']);
      expect(accepted.size).toBe(first.length);
      expect(duplicates).toBe(first.length);
      expect(badSignatures).toBe(0);
      expect(accepted.get(first[1] as string)?.reason).toBe("2× support_contact after checkout; cluster 'browsers' (churn 0.80)");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
