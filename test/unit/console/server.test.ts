// The console's HTTP server on a real socket: the page and its chart library, the read-only API,
// the headers every answer carries, the token, the binding rule, and the live stream.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChurnAlert, type JourneySignal } from '../../../src/contracts/records.ts';
import { parseRiskSetting, RISK_SETTING_DEFAULT } from '../../../src/contracts/risk.ts';
import { UserError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/log.ts';
import { defaultBundleDir } from '../../../src/model/runtime.ts';
import { checkConsoleBinding, type ConsoleServer, CONTENT_SECURITY_POLICY, isLoopback, startConsoleServer } from '../../../src/console/server.ts';
import { ConsoleState } from '../../../src/console/state.ts';

const log = createLogger({ level: 'silent' });
const TOKEN = 'a-token-of-32-characters-0123456';
// The shipped bundle's id: records it did not score would look like another model's.
const MODEL_VERSION = (JSON.parse(readFileSync(join(defaultBundleDir(), 'manifest.json'), 'utf8')) as { modelVersion: string }).modelVersion;
const servers: ConsoleServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function newState(bundle = true): ConsoleState {
  return new ConsoleState({ mode: 'run', risk: parseRiskSetting(RISK_SETTING_DEFAULT), log, ...(bundle ? { bundleDir: defaultBundleDir() } : {}) });
}

async function start(options: { token?: string; state?: ConsoleState; summaryMs?: number; pingMs?: number } = {}): Promise<{ server: ConsoleServer; state: ConsoleState }> {
  const state = options.state ?? newState();
  const server = await startConsoleServer({ state, host: '127.0.0.1', port: 0, log, token: options.token, ...(options.summaryMs ? { summaryMs: options.summaryMs } : {}), ...(options.pingMs ? { pingMs: options.pingMs } : {}) });
  servers.push(server);
  return { server, state };
}

const alert = (n: number, over: Partial<ChurnAlert> = {}): ChurnAlert => ({
  alertId: `alert-${n}`,
  signalId: `sig-${n}`,
  sessionId: `s-${n}`,
  userId: `u-${n}`,
  churnRisk: 0.8,
  riskBand: 'high',
  previousBand: 'low',
  clusterId: 5,
  clusterLabel: 'logout → leave',
  reason: `reason ${n}`,
  eventCount: 4,
  modelVersion: MODEL_VERSION,
  emittedAt: Date.now(),
  ...over,
});

const signal = (sessionId: string, over: Partial<JourneySignal> = {}): JourneySignal => ({
  signalId: `sig-${sessionId}`,
  sessionId,
  userId: 'u-1',
  eventCount: 3,
  windowStart: Date.now() - 5000,
  windowEnd: Date.now() - 1000,
  clusterId: 2,
  clusterLabel: 'x',
  distance: 1,
  novel: false,
  churnRisk: 0.4,
  riskBand: 'low',
  modelVersion: MODEL_VERSION,
  emittedAt: Date.now(),
  final: false,
  ...over,
});

/** Reads SSE frames from /api/events until `until` holds; returns the frames. */
async function readStream(url: string, headers: Record<string, string>, until: (frames: { event: string; id?: string; data: string }[]) => boolean, timeoutMs = 5000): Promise<{ status: number; frames: { event: string; id?: string; data: string }[]; raw: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const res = await fetch(`${url}/api/events`, { headers, signal: abort.signal });
  const frames: { event: string; id?: string; data: string }[] = [];
  let raw = '';
  if (res.status !== 200 || !res.body) {
    clearTimeout(timer);
    return { status: res.status, frames, raw: await res.text() };
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += value;
      frames.length = 0;
      for (const block of raw.split('\n\n').slice(0, -1)) {
        const f: { event: string; id?: string; data: string } = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('data: ')) f.data = line.slice(6);
          else if (line.startsWith(':')) f.event = 'comment';
          else if (line.startsWith('retry: ')) f.event = 'retry';
        }
        frames.push(f);
      }
      if (until(frames)) break;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, frames, raw };
}

function rawRequest(url: string, method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console server: the page', () => {
  it('serves the page, its script, style, icon and the chart library with their types and the strict CSP, without a token', async () => {
    const { server } = await start({ token: TOKEN });
    const want: Record<string, string> = {
      '/': 'text/html; charset=utf-8',
      '/index.html': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml',
      '/vendor/uplot/uPlot.esm.js': 'text/javascript; charset=utf-8',
      '/vendor/uplot/uPlot.min.css': 'text/css; charset=utf-8',
    };
    for (const [path, type] of Object.entries(want)) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect((await res.text()).length, path).toBeGreaterThan(0);
    }
    expect(await (await fetch(`${server.url}/app.js`)).text()).toContain("import('/vendor/uplot/uPlot.esm.js')");
    expect(await (await fetch(`${server.url}/vendor/uplot/uPlot.esm.js`)).text()).toMatch(/export \{\s*uPlot as default\s*\}/);
  });

  it('serves no other file: no listing, no path walking', async () => {
    const { server } = await start();
    for (const path of ['/static/app.js', '/src/console/static/app.js', '/vendor/uplot/uPlot.cjs.js', '/vendor/uplot/', '/..%2f..%2fpackage.json', '/%2e%2e/package.json', '/package.json', '/api']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY);
    }
    const dotdot = await rawRequest(server.url, 'GET', '/../../package.json');
    expect(dotdot.status).toBe(404);
  });
});

describe('console server: read-only API', () => {
  it('answers every method but GET and HEAD with 405 and Allow, on pages and API alike', async () => {
    const { server } = await start({ token: TOKEN });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const path of ['/', '/api/model', '/api/events', '/api/sessions/s-1']) {
        const res = await rawRequest(server.url, method, path);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
        expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      }
    }
    const head = await rawRequest(server.url, 'HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('describes the model with every cluster and serves each prototype as a PNG of one size', async () => {
    const { server } = await start();
    const res = await fetch(`${server.url}/api/model`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const model = (await res.json()) as { mode: string; clusters: { id: number; prototypeUrl: string }[]; limits: { feed: number } };
    expect(model.mode).toBe('run');
    expect(model.clusters.length).toBe(7);
    for (const c of model.clusters) {
      const png = await fetch(`${server.url}${c.prototypeUrl}`);
      expect(png.headers.get('content-type')).toBe('image/png');
      const img = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
      expect([img.width, img.height]).toEqual([338, 590]);
    }
    expect((await fetch(`${server.url}/api/clusters/99/prototype.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/clusters/-1/prototype.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/clusters/x/prototype.png`)).status).toBe(400);
  });

  it('looks sessions and users up, with 404 for unknown ids and 400 for ids over 256 characters', async () => {
    const { server, state } = await start();
    const id = 'u:<b>x</b>/ä:1795000000000';
    state.addSignal(signal(id, { userId: 'user/1' }));
    const s = await fetch(`${server.url}/api/sessions/${encodeURIComponent(id)}`);
    expect(s.status).toBe(200);
    expect(((await s.json()) as { sessionId: string }).sessionId).toBe(id);
    const u = await fetch(`${server.url}/api/users/${encodeURIComponent('user/1')}`);
    expect(((await u.json()) as { sessions: { sessionId: string }[] }).sessions.map((x) => x.sessionId)).toEqual([id]);
    const missing = await fetch(`${server.url}/api/sessions/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    expect((await fetch(`${server.url}/api/users/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/sessions/${'x'.repeat(257)}`)).status).toBe(400);
    expect((await fetch(`${server.url}/api/sessions/${'x'.repeat(256)}`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/sessions/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${server.url}/api/sessions/nope/image.png`)).status).toBe(404);
  });

  it('answers the mix for 1 to 120 minutes and refuses anything else', async () => {
    const { server, state } = await start();
    state.addSignal(signal('m'));
    const body = (await (await fetch(`${server.url}/api/mix?minutes=5`)).json()) as { bucketMs: number; points: { signals: number }[] };
    expect(body.bucketMs).toBe(60_000);
    expect(body.points).toHaveLength(5);
    expect(body.points.at(-1)!.signals).toBe(1);
    expect(((await (await fetch(`${server.url}/api/mix`)).json()) as { points: unknown[] }).points).toHaveLength(60);
    for (const bad of ['0', '121', '1.5', 'x', '-3', '1e2']) expect((await fetch(`${server.url}/api/mix?minutes=${bad}`)).status, bad).toBe(400);
  });
});

describe('console server: the token', () => {
  it('answers /api/* with 401 and WWW-Authenticate without the token or with a wrong one, and works with it', async () => {
    const { server } = await start({ token: TOKEN });
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
      for (const path of ['/api/model', '/api/events', '/api/mix', '/api/clusters/0/prototype.png', '/api/sessions/x']) {
        const res = await fetch(`${server.url}${path}`, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="journeylens"');
        expect(await res.json()).toMatchObject({ error: 'unauthorized' });
      }
    }
    // no ?token= in URLs: it would end up in logs and history
    expect((await fetch(`${server.url}/api/model?token=${TOKEN}`)).status).toBe(401);
    const ok = await fetch(`${server.url}/api/model`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${server.url}/api/clusters/0/prototype.png`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('refuses to listen beyond loopback without a token, naming the option, and refuses a short token', async () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'console.example.com']) {
      expect(() => checkConsoleBinding(host, undefined)).toThrow(UserError);
      expect(() => checkConsoleBinding(host, undefined)).toThrow(/--ui-token .*JOURNEYLENS_UI_TOKEN_FILE/);
      await expect(startConsoleServer({ state: newState(false), host, port: 0, log })).rejects.toThrow(/needs a token/);
      expect(() => checkConsoleBinding(host, TOKEN)).not.toThrow();
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(() => checkConsoleBinding(host, undefined), host).not.toThrow();
    expect(() => checkConsoleBinding('127.0.0.1', 'short')).toThrow(/at least 16 characters, got 5/);
    try {
      checkConsoleBinding('0.0.0.0', undefined);
    } catch (err) {
      expect((err as UserError).exitCode).toBe(2);
    }
    expect(isLoopback('0.0.0.0')).toBe(false);
  });

  it('reports a port in use with the option to change', async () => {
    const { server } = await start();
    await expect(startConsoleServer({ state: newState(false), host: '127.0.0.1', port: server.port, log })).rejects.toThrow(/--ui-port \/ JOURNEYLENS_UI_PORT/);
  });
});

describe('console server: the live stream', () => {
  it('says hello, sends the backlog oldest first, then live alerts and summaries, all with ids to resume from', async () => {
    const { server, state } = await start({ summaryMs: 100 });
    for (let i = 1; i <= 3; i++) state.addAlert(alert(i));
    setTimeout(() => state.addAlert(alert(4)), 300);
    const { frames, status } = await readStream(server.url, {}, (f) => f.some((x) => x.event === 'alert' && x.data.includes('alert-4')) && f.filter((x) => x.event === 'summary').length >= 2);
    expect(status).toBe(200);
    expect(frames[0]!.event).toBe('retry');
    const hello = JSON.parse(frames[1]!.data) as { resumed: boolean; backlog: number; bootId: string; apiVersion: number; mode: string };
    expect(frames[1]!.event).toBe('hello');
    expect(hello).toMatchObject({ resumed: false, backlog: 3, bootId: state.bootId, apiVersion: 1, mode: 'run' });
    const alerts = frames.filter((f) => f.event === 'alert');
    expect(alerts.map((f) => (JSON.parse(f.data) as ChurnAlert).alertId)).toEqual(['alert-1', 'alert-2', 'alert-3', 'alert-4']);
    expect(alerts.map((f) => f.id)).toEqual([1, 2, 3, 4].map((n) => `${state.bootId}-${n}`));
    expect(JSON.parse(alerts[0]!.data)).not.toHaveProperty('signalId');
    const summary = JSON.parse(frames.find((f) => f.event === 'summary')!.data) as { t: number; point: { t: number; alerts: number } };
    expect(summary.point.t).toBe(summary.t);
  });

  it('resumes after the Last-Event-ID it was given, and starts over when the id is from another process', async () => {
    const { server, state } = await start();
    for (let i = 1; i <= 5; i++) state.addAlert(alert(i));
    const resumed = await readStream(server.url, { 'last-event-id': `${state.bootId}-3` }, (f) => f.filter((x) => x.event === 'summary').length >= 1);
    expect(JSON.parse(resumed.frames.find((f) => f.event === 'hello')!.data)).toMatchObject({ resumed: true, backlog: 2 });
    expect(resumed.frames.filter((f) => f.event === 'alert').map((f) => f.id)).toEqual([`${state.bootId}-4`, `${state.bootId}-5`]);
    const restarted = await readStream(server.url, { 'last-event-id': 'deadbeef-3' }, (f) => f.filter((x) => x.event === 'summary').length >= 1);
    expect(JSON.parse(restarted.frames.find((f) => f.event === 'hello')!.data)).toMatchObject({ resumed: false, backlog: 5 });
  });

  it('tells the page when another model starts serving, and pings', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'jl-console-')), 'bundle');
    cpSync(defaultBundleDir(), dir, { recursive: true });
    const state = new ConsoleState({ mode: 'run', risk: parseRiskSetting(RISK_SETTING_DEFAULT), log, bundleDir: dir });
    const { server } = await start({ state, pingMs: 100 });
    setTimeout(() => {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { modelVersion: string };
      manifest.modelVersion = 'retrained0002';
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      state.addSignal(signal('s-new-model', { modelVersion: 'retrained0002' }));
    }, 200);
    const { frames } = await readStream(server.url, {}, (f) => f.some((x) => x.event === 'model') && f.some((x) => x.event === 'comment'));
    expect(JSON.parse(frames.find((f) => f.event === 'model')!.data)).toEqual({ modelVersion: 'retrained0002' });
    expect(((await (await fetch(`${server.url}/api/model`)).json()) as { modelVersion: string }).modelVersion).toBe('retrained0002');
  });

  it('lets go of a client that does not read once over 1 MiB waits for it', async () => {
    const { server, state } = await start();
    const res = await new Promise<IncomingMessage>((resolve, reject) => request(`${server.url}/api/events`, resolve).on('error', reject).end());
    res.pause();
    expect(server.streams).toBe(1);
    const reason = 'r'.repeat(4096);
    for (let i = 0; i < 2000 && server.streams > 0; i++) {
      state.addAlert(alert(i, { reason }));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(server.streams).toBe(0);
    res.destroy();
  });

  it(`serves at most the stream limit at once (503 beyond) and frees a slot when a client leaves`, async () => {
    const state = new ConsoleState({ mode: 'run', risk: parseRiskSetting(RISK_SETTING_DEFAULT), log, limits: { streams: 2 } });
    const { server } = await start({ state });
    const aborts = [new AbortController(), new AbortController()];
    const open = await Promise.all(aborts.map((a) => fetch(`${server.url}/api/events`, { signal: a.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await fetch(`${server.url}/api/events`);
    expect(third.status).toBe(503);
    expect(await third.json()).toMatchObject({ error: 'too_many_streams' });
    aborts[0]!.abort();
    const deadline = Date.now() + 5000;
    while (server.streams > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.streams).toBe(1);
    const again = new AbortController();
    expect((await fetch(`${server.url}/api/events`, { signal: again.signal })).status).toBe(200);
    again.abort();
    aborts[1]!.abort();
  });
});
