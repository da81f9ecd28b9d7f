// The webhook sink against a real HTTP server on 127.0.0.1 (ephemeral port): failures are the
// server's real answers, timeouts are held responses, refusals are a closed port.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { type ChurnAlert } from '../../../src/contracts/records.ts';
import { parseRetryAfter, WebhookDeliveryError, WebhookSink, type WebhookSinkOptions } from '../../../src/sinks/webhook.ts';
import { webhookMetrics } from '../../../src/sinks/webhook-metrics.ts';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { signStandardWebhook, signWebhook, standardWebhookKey, verifyWebhookSignature, WebhookHeaders } from '../../../src/sinks/webhook-signature.ts';

const SECRET = 'test-secret';

interface Arrival {
  alertId: string;
  sessionId: string;
  seq: number;
  at: number;
  signatureOk: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, arrival: Arrival) => void;

interface Receiver {
  url: string;
  arrivals: Arrival[];
  /** Requests whose response was neither finished nor aborted. */
  open(): number;
  maxOpen(): number;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startReceiver(handler: Handler): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  let open = 0;
  let maxOpen = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const check = verifyWebhookSignature({
        secret: SECRET,
        body,
        timestamp: req.headers[WebhookHeaders.timestamp] as string | undefined,
        signature: req.headers[WebhookHeaders.signature] as string | undefined,
      });
      const alert = JSON.parse(body.toString('utf8')) as ChurnAlert;
      const arrival: Arrival = { alertId: alert.alertId, sessionId: alert.sessionId, seq: alert.eventCount, at: performance.now(), signatureOk: check.ok };
      expect(req.headers[WebhookHeaders.idempotencyKey]).toBe(alert.alertId);
      expect(req.headers['content-type']).toBe('application/json');
      arrivals.push(arrival);
      open++;
      maxOpen = Math.max(maxOpen, open);
      res.once('close', () => open--);
      handler(req, res, arrival);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/churn?token=abc`,
    arrivals,
    open: () => open,
    maxOpen: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  cleanups.push(() => receiver.close());
  return receiver;
}

function alert(session: number, seq: number): ChurnAlert {
  return {
    alertId: `alert-${session}-${seq}`,
    signalId: `sig-${session}-${seq}`,
    sessionId: `session-${session}`,
    userId: null,
    churnRisk: 0.8,
    riskBand: 'high',
    previousBand: 'medium',
    clusterId: 3,
    clusterLabel: 'frustrated support-seeker',
    reason: '3× support_contact after checkout',
    eventCount: seq,
    modelVersion: 'm1',
    emittedAt: 0,
  };
}

interface Parked {
  alert: ChurnAlert;
  error: WebhookDeliveryError;
}

function sink(url: string, options: Partial<WebhookSinkOptions<ChurnAlert>> = {}) {
  const parked: Parked[] = [];
  const delivered: { alert: ChurnAlert; attempts: number }[] = [];
  const statuses: string[] = [];
  const s = new WebhookSink<ChurnAlert>({
    url,
    secret: SECRET,
    park: (a, error) => {
      parked.push({ alert: a, error });
    },
    concurrency: 4,
    capacity: 100,
    maxAttempts: 5,
    timeoutMs: 1000,
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    onDelivered: (a, attempts) => delivered.push({ alert: a, attempts }),
    metrics: { request: (status) => statuses.push(status), parked: () => undefined },
    ...options,
  });
  cleanups.push(() => s.close());
  return { sink: s, parked, delivered, statuses };
}

/** A deterministic [0, 1) per (alert, attempt): outcomes do not depend on arrival order. */
function chance(seed: string, alertId: string, attempt: number): number {
  return createHash('sha256').update(`${seed}:${alertId}:${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('WebhookSink against a flaky receiver', () => {
  it('delivers every alert exactly once, in session order, through 500s, timeouts and 429s', async () => {
    const accepted = new Map<string, number>();
    const lastSeq = new Map<string, number>();
    const orderViolations: string[] = [];
    const attemptsSeen = new Map<string, number>();
    const counts = { 500: 0, timeout: 0, 429: 0, duplicate: 0 };
    const holds = new Set<NodeJS.Timeout>();
    cleanups.push(() => holds.forEach((t) => clearTimeout(t)));

    const accept = (a: Arrival) => {
      if (accepted.has(a.alertId)) {
        counts.duplicate++;
        return;
      }
      accepted.set(a.alertId, 1);
      const prev = lastSeq.get(a.sessionId) ?? -1;
      if (a.seq !== prev + 1) orderViolations.push(`${a.alertId} accepted after seq ${prev}`);
      lastSeq.set(a.sessionId, a.seq);
    };

    const receiver = await startReceiver((_req, res, a) => {
      const attempt = attemptsSeen.get(a.alertId) ?? 0;
      attemptsSeen.set(a.alertId, attempt + 1);
      const r = chance('chaos-1', a.alertId, attempt);
      if (!a.signatureOk) {
        res.writeHead(401).end('bad signature');
      } else if (r < 0.3) {
        counts[500]++;
        res.writeHead(500).end('boom');
      } else if (r < 0.4) {
        // Processed, then too slow to answer: the retry must be deduped by Idempotency-Key.
        counts.timeout++;
        accept(a);
        const t = setTimeout(() => {
          holds.delete(t);
          if (!res.destroyed) res.writeHead(200).end();
        }, 900);
        holds.add(t);
      } else if (r < 0.5) {
        counts[429]++;
        res.writeHead(429, { 'retry-after': r < 0.42 ? '1' : '0' }).end('slow down');
      } else {
        accept(a);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });

    const { sink: s, parked, delivered, statuses } = sink(receiver.url, { concurrency: 6, capacity: 40, maxAttempts: 15, timeoutMs: 300, backoffBaseMs: 5, backoffMaxMs: 100 });
    const sessions = 40;
    const perSession = 5;
    let pauses = 0;
    for (let seq = 0; seq < perSession; seq++) {
      for (let session = 0; session < sessions; session++) {
        if (!s.enqueue(alert(session, seq))) {
          // What the consumer does: pause the partitions, wait, resume.
          pauses++;
          await s.whenDrained();
        }
      }
    }
    await s.flush();

    const total = sessions * perSession;
    expect(parked).toEqual([]);
    expect(s.size).toBe(0);
    expect(new Set(delivered.map((d) => d.alert.alertId)).size).toBe(total);
    expect(delivered).toHaveLength(total);
    expect(accepted.size).toBe(total);
    expect(orderViolations).toEqual([]);
    // The sink saw exactly one 2xx per alert: it never re-sends what was acknowledged. (A retry
    // after a late, processed request is the receiver's duplicate to drop by Idempotency-Key.)
    expect(statuses.filter((x) => x === '200')).toHaveLength(total);
    expect(receiver.arrivals.every((a) => a.signatureOk)).toBe(true);
    // The chaos really happened, and the dedupe path was exercised.
    expect(counts[500]).toBeGreaterThan(20);
    expect(counts.timeout).toBeGreaterThan(5);
    expect(counts[429]).toBeGreaterThan(5);
    expect(counts.duplicate).toBeGreaterThan(0);
    expect(pauses).toBeGreaterThan(0);
    // The client's view matches the server's, except answers that came after the client timeout.
    const seen = (status: string) => statuses.filter((x) => x === status).length;
    expect(seen('timeout')).toBeGreaterThanOrEqual(counts.timeout);
    expect(seen('500')).toBeGreaterThan(0);
    expect(seen('500') + seen('timeout')).toBeGreaterThanOrEqual(counts[500]);
    expect(seen('429') + seen('timeout')).toBeGreaterThanOrEqual(counts[429]);
  });
});

describe('WebhookSink failure handling', () => {
  it('does not retry a 400 and parks the alert with the receiver\'s answer', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(400).end('{"error":"unknown field riskBand"}'));
    const { sink: s, parked, delivered } = sink(receiver.url);
    s.enqueue(alert(1, 0));
    await s.flush();
    expect(receiver.arrivals).toHaveLength(1);
    expect(delivered).toEqual([]);
    expect(parked).toHaveLength(1);
    const { error } = parked[0] as Parked;
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect(error.code).toBe('WEBHOOK_DELIVERY');
    expect([error.outcome, error.status, error.attempts, error.canRetry]).toEqual(['http', 400, 1, false]);
    // The logged target keeps no query string (it may carry a token).
    expect(error.message).toMatch(/^webhook POST http:\/\/127\.0\.0\.1:\d+\/hooks\/churn answered 400 Bad Request: \{"error":"unknown field riskBand"\}$/);
  });

  it('retries a refused connection, then parks the alert with the socket error', async () => {
    const probe = await startReceiver(() => undefined);
    const url = probe.url;
    await probe.close();
    const { sink: s, parked, statuses } = sink(url, { maxAttempts: 3 });
    s.enqueue(alert(1, 0));
    await s.flush();
    expect(statuses).toEqual(['error', 'error', 'error']);
    expect(parked).toHaveLength(1);
    const { error } = parked[0] as Parked;
    expect([error.outcome, error.status, error.attempts]).toEqual(['error', undefined, 3]);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('times out a held response, retries, and parks after the last attempt', async () => {
    const receiver = await startReceiver(() => undefined);
    const { sink: s, parked, statuses } = sink(receiver.url, { timeoutMs: 100, maxAttempts: 2 });
    s.enqueue(alert(1, 0));
    await s.flush();
    expect(receiver.arrivals).toHaveLength(2);
    expect(statuses).toEqual(['timeout', 'timeout']);
    expect((parked[0] as Parked).error.message).toMatch(/timed out after 100 ms$/);
    await until(() => receiver.open() === 0);
  });

  it('keeps a session\'s later alerts behind one that is retried, while other sessions go on', async () => {
    let failuresLeft = 3;
    const receiver = await startReceiver((_req, res, a) => {
      if (a.alertId === 'alert-1-0' && failuresLeft-- > 0) res.writeHead(503).end();
      else res.writeHead(204).end();
    });
    const { sink: s, delivered } = sink(receiver.url, { backoffBaseMs: 40, backoffMaxMs: 40, random: () => 1 });
    s.enqueue(alert(1, 0));
    s.enqueue(alert(1, 1));
    s.enqueue(alert(2, 0));
    await s.flush();
    expect(delivered.map((d) => `${d.alert.alertId}×${d.attempts}`)).toEqual(['alert-2-0×1', 'alert-1-0×4', 'alert-1-1×1']);
    const order = receiver.arrivals.map((a) => a.alertId);
    expect(order.indexOf('alert-1-1')).toBe(order.length - 1);
  });

  it('does not follow a redirect (a redirected POST turns into a GET) and parks the alert', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const { sink: s, parked } = sink(receiver.url);
    s.enqueue(alert(1, 0));
    await s.flush();
    expect(receiver.arrivals).toHaveLength(1);
    expect([(parked[0] as Parked).error.status, (parked[0] as Parked).error.attempts]).toEqual([302, 1]);
  });

  it('close() aborts what is in flight, rejects a pending flush() and refuses new alerts', async () => {
    const receiver = await startReceiver(() => undefined);
    const { sink: s, parked, statuses } = sink(receiver.url, { timeoutMs: 5000 });
    s.enqueue(alert(1, 0));
    s.enqueue(alert(2, 0));
    const flushed = s.flush();
    await until(() => receiver.arrivals.length === 2);
    s.close();
    await expect(flushed).rejects.toThrow('webhook sink closed with 2 alert(s) undelivered; they are replayed from the last commit.');
    expect(() => s.enqueue(alert(3, 0))).toThrow('webhook sink: enqueue() after close().');
    await until(() => receiver.open() === 0);
    expect(parked).toEqual([]);
    expect(statuses).toEqual([]);
  });

  it('fails flush() and refuses new alerts when parking fails, so nothing is committed past it', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(422).end());
    const { sink: s } = sink(receiver.url, {
      park: () => Promise.reject(new Error('parking topic unavailable')),
    });
    s.enqueue(alert(1, 0));
    await expect(s.flush()).rejects.toThrow('webhook sink: parking alert alert-1-0 failed: parking topic unavailable');
    expect(() => s.enqueue(alert(1, 1))).toThrow(/parking topic unavailable/);
  });
});

describe('WebhookSink Retry-After', () => {
  it('waits the delay-seconds a 429 asks for before retrying', async () => {
    const receiver = await startReceiver((_req, res) => {
      if (receiver.arrivals.length === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end();
    });
    const { sink: s, delivered } = sink(receiver.url, { backoffBaseMs: 0, backoffMaxMs: 0 });
    s.enqueue(alert(1, 0));
    await s.flush();
    const [first, second] = receiver.arrivals as [Arrival, Arrival];
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000 - 15);
    expect(delivered.map((d) => d.attempts)).toEqual([2]);
  });

  it('waits until the HTTP-date a 429 names', async () => {
    let notBefore = 0;
    const receiver = await startReceiver((_req, res) => {
      if (receiver.arrivals.length === 1) {
        const at = (Math.floor(Date.now() / 1000) + 2) * 1000;
        notBefore = performance.now() + (at - Date.now());
        res.writeHead(429, { 'retry-after': new Date(at).toUTCString() }).end();
      } else res.writeHead(200).end();
    });
    const { sink: s } = sink(receiver.url, { backoffBaseMs: 0, backoffMaxMs: 0 });
    s.enqueue(alert(1, 0));
    await s.flush();
    expect(receiver.arrivals).toHaveLength(2);
    expect((receiver.arrivals[1] as Arrival).at).toBeGreaterThanOrEqual(notBefore - 15);
  });

  it('reads delay-seconds and HTTP-dates, and ignores what it cannot read', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('WebhookSink backpressure and flush', () => {
  it('reports full at capacity, never has more than `concurrency` requests open, and drains', async () => {
    const heldResponses: ServerResponse[] = [];
    let gateOpen = false;
    const receiver = await startReceiver((_req, res) => {
      if (gateOpen) res.writeHead(200).end();
      else heldResponses.push(res);
    });
    const pressure: boolean[] = [];
    const { sink: s, delivered } = sink(receiver.url, { concurrency: 3, capacity: 6, lowWaterMark: 2, onBackpressure: (full) => pressure.push(full) });
    const accepted = [0, 1, 2, 3, 4, 5].map((i) => s.enqueue(alert(i, 0)));
    expect(accepted).toEqual([true, true, true, true, true, false]);
    expect(s.isFull()).toBe(true);
    expect(s.offer(alert(99, 0))).toBe(false);
    expect(s.size).toBe(6);
    expect(pressure).toEqual([true]);

    await until(() => heldResponses.length === 3);
    await sleep(100);
    expect(receiver.open()).toBe(3);
    let drained = false;
    const drain = s.whenDrained().then(() => (drained = true));
    await sleep(50);
    expect(drained).toBe(false);

    gateOpen = true;
    for (const res of heldResponses) res.writeHead(200).end();
    await drain;
    expect(pressure).toEqual([true, false]);
    await s.flush();
    expect(delivered.map((d) => d.alert.alertId).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `alert-${i}-0`));
    expect(receiver.maxOpen()).toBe(3);
    expect(s.offer(alert(99, 0))).toBe(true);
    await s.flush();
  });

  it('flush() waits only for what was enqueued before it, not for later alerts', async () => {
    const held: ServerResponse[] = [];
    const receiver = await startReceiver((_req, res, a) => {
      if (a.sessionId === 'session-2') held.push(res);
      else res.writeHead(200).end();
    });
    const { sink: s } = sink(receiver.url);
    s.enqueue(alert(1, 0));
    const first = s.flush();
    s.enqueue(alert(2, 0));
    await first;
    await until(() => held.length === 1);
    let second = false;
    const p = s.flush().then(() => (second = true));
    await sleep(50);
    expect(second).toBe(false);
    (held[0] as ServerResponse).writeHead(200).end();
    await p;
    expect(receiver.arrivals.map((a) => a.alertId)).toEqual(['alert-1-0', 'alert-2-0']);
  });

  it('resolves flush() at once when nothing is held', async () => {
    const { sink: s } = sink('http://127.0.0.1:9/never');
    await expect(s.flush()).resolves.toBeUndefined();
    await expect(s.whenDrained()).resolves.toBeUndefined();
  });
});

describe('webhook signature', () => {
  const body = '{"alertId":"a1"}';
  const now = () => 1_700_000_000_000;
  const ts = 1_700_000_000;

  it('verifies a signature over timestamp and raw body, also among rotated secrets', () => {
    const sig = signWebhook(SECRET, ts, body);
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret: SECRET, body, timestamp: String(ts), signature: sig, now })).toEqual({ ok: true, timestampSec: ts });
    const rotated = `${signWebhook('old-secret', ts, body)}, ${sig}`;
    expect(verifyWebhookSignature({ secret: SECRET, body: Buffer.from(body), timestamp: String(ts), signature: rotated, now }).ok).toBe(true);
  });

  it('rejects a changed body, a wrong secret, a replay outside the tolerance and missing headers', () => {
    const sig = signWebhook(SECRET, ts, body);
    const v = (o: Partial<Parameters<typeof verifyWebhookSignature>[0]>) => verifyWebhookSignature({ secret: SECRET, body, timestamp: String(ts), signature: sig, now, ...o });
    expect(v({ body: '{"alertId":"a2"}' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(v({ secret: 'other' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(v({ now: () => (ts + 301) * 1000 })).toEqual({ ok: false, reason: 'stale' });
    expect(v({ now: () => (ts + 299) * 1000 }).ok).toBe(true);
    // Re-signing an old request with a fresh timestamp needs the secret.
    expect(v({ timestamp: String(ts + 10) })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(v({ timestamp: 'yesterday' })).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(v({ signature: undefined })).toEqual({ ok: false, reason: 'missing-header' });
  });
});

describe('Standard Webhooks signature, checked by the standardwebhooks package as a receiver would', () => {
  const STANDARD = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('signs every attempt so Webhook#verify accepts it, with a webhook-id that stays the same across retries', async () => {
    const seen: { headers: Record<string, string>; verified: unknown }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers as Record<string, string>;
        let verified: unknown;
        try {
          verified = new Webhook(STANDARD).verify(raw, headers);
        } catch (err) {
          verified = err;
        }
        seen.push({ headers, verified });
        res.writeHead(seen.length < 3 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    // Webhook#verify checks the timestamp against the real clock (5 min tolerance): a clock near it
    // that moves 7 s per reading gives each attempt its own timestamp.
    let clock = Date.now();
    const { sink: s, delivered } = sink(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, { secret: STANDARD, now: () => (clock += 7_000) });
    s.enqueue(alert(1, 1));
    await s.flush();
    expect(delivered).toEqual([{ alert: alert(1, 1), attempts: 3 }]);
    expect(seen).toHaveLength(3);
    for (const { headers, verified } of seen) {
      expect(verified).toEqual(alert(1, 1));
      expect(headers[WebhookHeaders.id]).toBe('alert-1-1');
      expect(headers[WebhookHeaders.standardSignature]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      // the deprecated scheme still rides along, with the same timestamp
      expect(headers[WebhookHeaders.timestamp]).toBe(headers[WebhookHeaders.standardTimestamp]);
    }
    // a fresh timestamp per attempt, one id for all of them
    expect(new Set(seen.map((x) => x.headers[WebhookHeaders.standardTimestamp])).size).toBe(3);
  });

  it('matches the package byte for byte, and the package refuses a changed body, id or secret', () => {
    const body = JSON.stringify({ alertId: 'a-1', reason: 'ünïcødé ✓' });
    const ts = Math.floor(Date.now() / 1000);
    const sig = signStandardWebhook(standardWebhookKey(STANDARD), 'a-1', ts, body);
    const wh = new Webhook(STANDARD);
    expect(wh.sign('a-1', new Date(ts * 1000), body)).toBe(sig);
    const headers = { 'webhook-id': 'a-1', 'webhook-timestamp': String(ts), 'webhook-signature': sig };
    expect(wh.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => wh.verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'a-2' })).toThrow(/No matching signature/);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers)).toThrow(/No matching signature/);
    // A secret without the prefix is used as its bytes: the package reads it with format "raw".
    const plain = signStandardWebhook(standardWebhookKey('crm-secret'), 'a-1', ts, body);
    expect(new Webhook('crm-secret', { format: 'raw' }).verify(body, { ...headers, 'webhook-signature': plain })).toEqual(JSON.parse(body));
  });

  it('refuses a whsec_ secret whose key is not base64, naming the env variables', () => {
    expect(() => standardWebhookKey('whsec_not base64!')).toThrow(UserError);
    expect(() => standardWebhookKey('whsec_not base64!')).toThrow(/starts with whsec_ but what follows is not base64.*JOURNEYLENS_WEBHOOK_SECRET/);
    expect(() => standardWebhookKey('whsec_')).toThrow(/not base64/);
    expect(standardWebhookKey(STANDARD)).toEqual(Buffer.alloc(32, 7));
  });
});

describe('WebhookSink options and metrics', () => {
  it('rejects bad options with the option name and the rule', () => {
    const make = (o: Partial<WebhookSinkOptions<ChurnAlert>>) => () => new WebhookSink<ChurnAlert>({ url: 'http://x/', secret: 's', park: () => undefined, ...o });
    expect(make({ url: 'not a url' })).toThrow(UserError);
    expect(make({ url: 'not a url' })).toThrow('webhook: url must be an absolute http(s) URL, got "not a url".');
    expect(make({ url: 'ftp://x/' })).toThrow('webhook: url must use http or https, got "ftp:".');
    expect(make({ secret: '' })).toThrow('webhook: secret must not be empty; set the HMAC key shared with the receiver.');
    expect(make({ concurrency: 0 })).toThrow('webhook: concurrency must be an integer ≥ 1, got 0.');
    expect(make({ capacity: 10, lowWaterMark: 10 })).toThrow('webhook: lowWaterMark must be an integer from 0 to capacity − 1 (9), got 10.');
  });

  it('counts requests by status in journeylens_webhook_requests_total, sharing one registry', async () => {
    const registry = new Registry();
    const receiver = await startReceiver((_req, res) => {
      if (receiver.arrivals.length === 1) res.writeHead(502).end();
      else res.writeHead(200).end();
    });
    const { sink: s } = sink(receiver.url, { metrics: webhookMetrics(registry) });
    webhookMetrics(registry); // a second sink on the same registry must not throw
    s.enqueue(alert(1, 0));
    s.enqueue(alert(1, 1));
    expect(await registry.metrics()).toContain('journeylens_webhook_queue_depth 2');
    await s.flush();
    const text = await registry.metrics();
    expect(text).toContain('journeylens_webhook_queue_depth 0');
    expect(text).toContain('journeylens_webhook_requests_total{status="502"} 1');
    expect(text).toContain('journeylens_webhook_requests_total{status="200"} 2');
    expect(text).toContain('journeylens_webhook_request_duration_seconds_count 3');
  });
});
