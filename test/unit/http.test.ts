import { createServer } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { type OpsServer, startOpsServer } from '../../src/http.ts';
import { createMetrics } from '../../src/metrics.ts';

const started: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function start(opts: { checkTimeoutMs?: number } = {}): Promise<{ server: OpsServer; registry: Registry }> {
  const registry = new Registry();
  const server = await startOpsServer({ registry, host: '127.0.0.1', port: 0, ...opts });
  started.push(server);
  return { server, registry };
}

describe('ops HTTP server', () => {
  it('serves the registry on /metrics with the Prometheus content type', async () => {
    const { server, registry } = await start();
    createMetrics(registry).eventsTotal.inc({ topic: 'clicks', outcome: 'processed' }, 5);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toMatch(/^journeylens_events_total\{topic="clicks",outcome="processed"\} 5$/m);
  });

  it('answers /healthz with 200 while readiness fails', async () => {
    const { server } = await start();
    server.setReadinessCheck('modelLoaded', () => false);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
  });

  it('is ready only when every registered check passes, and names the failing ones', async () => {
    const { server } = await start();
    let joined = false;
    let brokerUp = true;
    server.setReadinessCheck('consumerJoined', () => joined);
    server.setReadinessCheck('modelLoaded', async () => true);
    server.setReadinessCheck('brokerReachable', () => brokerUp);

    let res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ ready: false, failing: ['consumerJoined'] });

    joined = true;
    res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true });

    brokerUp = false;
    res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, failing: ['brokerReachable'] });

    server.removeReadinessCheck('brokerReachable');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('counts a check that throws or hangs as failing', async () => {
    const { server } = await start({ checkTimeoutMs: 100 });
    server.setReadinessCheck('throws', () => {
      throw new Error('boom');
    });
    server.setReadinessCheck('hangs', () => new Promise<boolean>(() => undefined));
    server.setReadinessCheck('fine', () => true);
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, failing: ['throws', 'hangs'] });
  });

  it('answers HEAD without a body and turns a failing collector into a 500, not a crash', async () => {
    const { server, registry } = await start();
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    new Gauge({
      name: 'journeylens_broken',
      help: 'a collector that throws',
      registers: [registry],
      collect() {
        throw new Error('collector exploded');
      },
    });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('collector exploded');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('returns 404 for unknown paths and 405 for other methods', async () => {
    const { server } = await start();
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('reports a taken port as a UserError naming the option, and stop() frees the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startOpsServer({ registry: new Registry(), host: '127.0.0.1', port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as Error).message).toBe(
        `cannot listen on 127.0.0.1:${port} for metrics (EADDRINUSE): choose another --metrics-port / JOURNEYLENS_METRICS_PORT or --metrics-host / JOURNEYLENS_METRICS_HOST.`,
      );
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    const server = await startOpsServer({ registry: new Registry(), host: '127.0.0.1', port });
    expect(server.port).toBe(port);
    await server.stop();
    await server.stop(); // idempotent
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
