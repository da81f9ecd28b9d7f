// docs/webhook.md's receiver, run as written (a Node.js process importing the standardwebhooks
// package), against journeylens's own webhook sink on 127.0.0.1; and its secret command.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChurnAlert } from '../../../src/contracts/records.ts';
import { WebhookSink } from '../../../src/sinks/webhook.ts';
import { standardWebhookKey } from '../../../src/sinks/webhook-signature.ts';
import { freePort } from '../../helpers/prometheus.ts';
import { codeBlocks, repoRoot } from '../../helpers/docs.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const alert = (n: number): ChurnAlert => ({
  alertId: `a-${n}`,
  signalId: `s-${n}`,
  sessionId: `session-${n}`,
  userId: `u-${n}`,
  churnRisk: 0.9,
  riskBand: 'high',
  previousBand: 'low',
  clusterId: 2,
  clusterLabel: 'bouncer',
  reason: 'ünïcødé ✓',
  eventCount: 3,
  modelVersion: 'm',
  emittedAt: 0,
});

describe('docs/webhook.md', () => {
  it('gives a secret command whose output journeylens accepts as a 32-byte key', () => {
    const [sh] = codeBlocks('docs/webhook.md', 'sh');
    const command = sh!.trim();
    expect(command).toMatch(/^node -e /);
    const res = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const secret = res.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(standardWebhookKey(secret)).toHaveLength(32);
  });

  it('has a Node.js receiver that accepts what the sink sends, once per webhook-id, and refuses a wrong secret', async () => {
    const [receiver] = codeBlocks('docs/webhook.md', 'js');
    expect(receiver).toContain("from 'standardwebhooks'");
    // Inside node_modules, so the receiver's `import 'standardwebhooks'` resolves as in a user's project.
    const dir = join(repoRoot, 'node_modules', '.cache', 'journeylens-doc-tests');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `webhook-receiver-${process.pid}.mjs`);
    writeFileSync(file, receiver!);
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const port = await freePort();
    const child = spawn(process.execPath, [file], { env: { ...process.env, JOURNEYLENS_WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      child.kill();
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const url = `http://127.0.0.1:${port}/crm`;
    for (let i = 0; ; i++) {
      const up = await fetch(url, { method: 'POST', body: '{}' }).then((r) => r.status, () => 0);
      if (up === 401) break;
      if (i > 100) throw new Error(`the doc's receiver did not answer: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const statuses: string[] = [];
    const parked: ChurnAlert[] = [];
    const good = new WebhookSink<ChurnAlert>({ url, secret, park: (a) => void parked.push(a), metrics: { request: (s) => statuses.push(s), parked: () => undefined } });
    cleanups.push(() => good.close());
    good.enqueue(alert(1));
    good.enqueue(alert(2));
    good.enqueue(alert(1)); // a retry after a restart: same webhook-id
    await good.flush();
    expect(statuses).toEqual(['204', '204', '204']);
    expect(parked).toEqual([]);
    // two sessions are delivered in parallel: any order
    expect(out.trim().split('\n').sort()).toEqual(['alert a-1: high churn risk for u-1', 'alert a-2: high churn risk for u-2']);

    const wrong = new WebhookSink<ChurnAlert>({ url, secret: `whsec_${Buffer.alloc(32, 4).toString('base64')}`, maxAttempts: 1, park: (a) => void parked.push(a) });
    cleanups.push(() => wrong.close());
    wrong.enqueue(alert(3));
    await wrong.flush();
    expect(parked.map((a) => a.alertId)).toEqual(['a-3']);
  });
});
