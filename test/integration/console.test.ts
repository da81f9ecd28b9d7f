// The web console end to end: `journeylens run --ui-port` (the built binary) on the real broker
// with the default bundle, a real headless Chromium (Debian's package, driven by playwright-core)
// on the page, and `journeylens ui` reading the same output topics with a token.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { type Page } from 'playwright-core';
import { type ChurnAlert } from '../../src/contracts/records.ts';
import { defaultBundleDir } from '../../src/model/runtime.ts';
import { type CliProcess, consoleUrl, runCli, startCli } from '../helpers/cli.ts';
import { type HeadlessChromium, launchChromium, recordTrouble } from '../helpers/browser.ts';
import { type Collector, collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');

// The functions handed to page.evaluate/waitForFunction run in the browser; the project compiles
// without the DOM library, so these are the few DOM shapes they use.
interface Node_ {
  textContent: string | null;
  hidden: boolean;
  dataset: Record<string, string | undefined>;
}
interface Img extends Node_ {
  src: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
declare const document: { querySelectorAll<T = Node_>(selector: string): ArrayLike<T> & Iterable<T>; getElementById<T = Node_>(id: string): T | null };
const TOKEN = 'console-test-token-0123456789abcdef';
const clusters = (JSON.parse(readFileSync(join(defaultBundleDir(), 'clusters.json'), 'utf8')) as { clusters: { id: number }[] }).clusters.map((c) => c.id);

// A journey the default bundle scores at about 0.74 churn risk: it alerts once it has 3 events.
const ALERTING_TYPES = ['login', 'logout', 'logout', 'logout'];

function journey(sessionId: string, userId: string, types: string[], pages: (string | null)[] = []): { key: string; value: string }[] {
  const t0 = Date.now() - 3_600_000;
  return types.map((type, i) => ({
    key: sessionId,
    value: JSON.stringify({ eventId: `${sessionId}-${i}`, sessionId, userId, timestamp: t0 + i * 20_000, type, page: pages[i] ?? '/account', durationMs: 3000, value: null, properties: {} }),
  }));
}

async function alertOf(alerts: Collector, sessionId: string): Promise<ChurnAlert> {
  const mine = (): ChurnAlert | undefined => alerts.messages.map((m) => JSON.parse(String(m.value)) as ChurnAlert).find((a) => a.sessionId === sessionId);
  await alerts.waitFor(() => mine() !== undefined, 60_000, `an alert for ${sessionId}`);
  return mine()!;
}

async function galleryLoaded(page: Page): Promise<number[]> {
  await page.waitForFunction(
    (n) => {
      const imgs = [...document.querySelectorAll<Img>('.cluster-card img')];
      return imgs.length === n && imgs.every((i) => i.complete && i.src.startsWith('blob:') && i.naturalWidth > 0);
    },
    clusters.length,
    { timeout: 20_000 },
  );
  return page.evaluate(() => [...document.querySelectorAll('.cluster-card')].map((c) => Number(c.dataset.clusterId)));
}

describe('web console (real broker, real processor, headless Chromium)', () => {
  const kafka = testKafka(brokers);
  const [input, signals, alerts] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts')];
  let browser: HeadlessChromium;
  let run: CliProcess;
  let url: string;
  let alertsTopic: Collector;

  beforeAll(async () => {
    await createTopics(kafka, [input, signals, alerts]);
    run = startCli(['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--alerts-topic', alerts, '--group', uniqueName('g'), '--output-format', 'json', '--metrics-port', '0', '--ui-port', '0', '--tick-ms', '100', '--log-level', 'info']);
    url = await consoleUrl(run);
    await run.waitForOutput(/journeylens is running/, 90_000);
    alertsTopic = await collect(kafka, alerts);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await alertsTopic?.stop();
    run?.kill('SIGTERM');
    if (run) expect(await run.exited).toBe(0);
  });

  it('shows every cluster of the default bundle with its prototype image, and the live stream', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const trouble = recordTrouble(page);
    await page.goto(`${url}/`);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    expect((await galleryLoaded(page)).sort((a, b) => a - b)).toEqual([...clusters].sort((a, b) => a - b));
    expect(await page.textContent('#model-version')).toBe(JSON.parse(readFileSync(join(defaultBundleDir(), 'manifest.json'), 'utf8')).modelVersion);
    expect(trouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
  });

  it('puts an alert raised during the test in the feed within 2 s of its publication, and looks its session up with its journey image', async ({ annotate }) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const trouble = recordTrouble(page);
    await page.goto(`${url}/`);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    const sessionId = uniqueName('s-churn');
    const produced = Date.now();
    await produce(kafka, input, journey(sessionId, 'u-churn', ALERTING_TYPES));
    const alert = await alertOf(alertsTopic, sessionId);
    const onTopic = Date.now();
    // the test sees the alert on the topic; the page must have it (or get it) within 2 s
    const item = await page.waitForSelector(`#feed > li[data-alert-id="${alert.alertId}"]`, { timeout: 2_000 });
    // the figures for the record (vitest --reporter=verbose prints them), not a timed assertion
    await annotate(`alert in the feed ${Date.now() - onTopic} ms after the test read it from the topic, ${Date.now() - produced} ms after the journey was produced`);
    expect(await item.getAttribute('data-band')).toBe(alert.riskBand);
    expect(await item.textContent()).toContain(alert.reason);

    await page.fill('#lookup-input', sessionId);
    await page.click('#lookup-form button[type="submit"]');
    await page.waitForFunction((id) => document.getElementById('lookup-session')?.textContent === id, sessionId, { timeout: 10_000 });
    await page.waitForFunction(() => {
      const img = document.getElementById<Img>('lookup-img')!;
      return !img.hidden && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => [document.getElementById<Img>('lookup-img')!.naturalWidth, document.getElementById<Img>('lookup-img')!.naturalHeight])).toEqual([338, 590]);
    expect(await page.textContent('#lookup-last')).toContain('logout on /account');
    expect(trouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
  });

  it('shows event data holding <script> and <img onerror> markup as text and runs none of it', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const trouble = recordTrouble(page);
    await page.goto(`${url}/`);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    const scriptType = '<script>alert("type")</script>';
    const imgPage = '<img src=x onerror=alert("page")>';
    const userId = '<img src=x onerror=alert("user")>';
    const sessionId = `${uniqueName('s-xss')}<script>alert("session")</script>`;
    await produce(kafka, input, journey(sessionId, userId, [...ALERTING_TYPES, scriptType], [null, null, null, null, imgPage]));
    const alert = await alertOf(alertsTopic, sessionId);
    const item = await page.waitForSelector(`#feed > li[data-alert-id="${alert.alertId}"]`, { timeout: 5_000 });
    expect(await item.textContent()).toContain(sessionId);
    expect(await item.textContent()).toContain(userId);

    // the session's last event is the one with markup in its type and page
    const signalsTopic = await collect(kafka, signals);
    onTestFinished(() => signalsTopic.stop());
    await signalsTopic.waitFor((ms) => ms.some((m) => String(m.value).includes(`"eventCount":5`) && String(m.value).includes('s-xss')), 30_000, 'the signal after the markup event');
    await page.fill('#lookup-input', sessionId);
    await page.click('#lookup-form button[type="submit"]');
    await page.waitForFunction((t) => document.getElementById('lookup-last')?.textContent?.includes(t) ?? false, scriptType, { timeout: 10_000 });
    expect(await page.textContent('#lookup-last')).toContain(`${scriptType} on ${imgPage}`);
    expect(await page.textContent('#lookup-session')).toBe(sessionId);
    expect(await page.textContent('#lookup-user')).toBe(userId);
    await page.waitForTimeout(500);

    // nothing ran and nothing was built from it: no dialog, no error, no CSP report, no element
    expect(trouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
    const built = await page.evaluate(() => ({
      scripts: [...document.querySelectorAll<{ getAttribute(name: string): string | null }>('script')].map((s) => s.getAttribute('src')),
      imgX: document.querySelectorAll('img[src="x"]').length,
      handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
    }));
    expect(built).toEqual({ scripts: ['/app.js'], imgX: 0, handlers: 0 });
  });

  it('serves the same console apart from the processor with `journeylens ui`, behind a token, and again after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jl-ui-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const uiArgs = ['ui', '--brokers', brokers, '--signals-topic', signals, '--alerts-topic', alerts, '--ui-port', '0', '--window-minutes', '30', '--log-level', 'info'];
    const env = { JOURNEYLENS_UI_TOKEN_FILE: join(dir, 'token') };
    const sessionId = uniqueName('s-ui');
    await produce(kafka, input, journey(sessionId, 'u-ui', ALERTING_TYPES));
    const alert = await alertOf(alertsTopic, sessionId);

    for (const round of ['first start', 'after a restart']) {
      const ui = startCli(uiArgs, env);
      onTestFinished(() => ui.kill('SIGKILL'));
      const base = await consoleUrl(ui);
      await ui.waitForOutput(/replayed the window of the output topics/, 60_000);
      const auth = { authorization: `Bearer ${TOKEN}` };

      const denied = await fetch(`${base}/api/model`);
      expect(denied.status, round).toBe(401);
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="journeylens"');
      expect((await fetch(`${base}/`)).status).toBe(200);
      const model = (await (await fetch(`${base}/api/model`, { headers: auth })).json()) as { mode: string; clusters: unknown[] };
      expect(model).toMatchObject({ mode: 'ui' });
      expect(model.clusters).toHaveLength(clusters.length);
      const session = (await (await fetch(`${base}/api/sessions/${encodeURIComponent(sessionId)}`, { headers: auth })).json()) as { latest: { sessionId: string }; image: unknown; imageNote: string };
      expect(session.latest.sessionId).toBe(sessionId);
      expect(session.image).toBeNull();
      expect(session.imageNote).toMatch(/output topics/);

      // the page takes the token from #token=…, drops it from the address, and shows the alert the topics hold
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const trouble = recordTrouble(page);
      await page.goto(`${base}/#token=${TOKEN}`);
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
      await page.waitForSelector(`#feed > li[data-alert-id="${alert.alertId}"]`, { timeout: 10_000 });
      expect(await page.textContent('#mode-label')).toBe('reading output topics');
      expect(new URL(page.url()).hash).toBe('');
      expect((await galleryLoaded(page)).length).toBe(clusters.length);
      expect(trouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
      await page.context().close();

      ui.kill('SIGTERM');
      expect(await ui.exited, round).toBe(0);
    }
  });

  it('asks for the token in the page when it has none, and connects once it is given', async () => {
    const ui = startCli(['ui', '--brokers', brokers, '--signals-topic', signals, '--alerts-topic', alerts, '--ui-port', '0', '--window-minutes', '5'], { JOURNEYLENS_UI_TOKEN: TOKEN });
    onTestFinished(() => ui.kill('SIGKILL'));
    const base = await consoleUrl(ui);
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('#token-dialog[open]', { timeout: 10_000 });
    expect(await page.getAttribute('#conn', 'data-state')).toBe('auth');
    await page.fill('#token-input', 'wrong-token-but-long-enough');
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#token-dialog[open]', { timeout: 10_000 });
    expect(await page.textContent('#token-error')).toContain('refused');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    ui.kill('SIGTERM');
    expect(await ui.exited).toBe(0);
  });

  it('refuses to serve beyond loopback without a token, naming the option, before it connects to anything', async () => {
    for (const args of [
      ['ui', '--brokers', '127.0.0.1:1', '--ui-host', '0.0.0.0'],
      ['run', '--brokers', '127.0.0.1:1', '--input', 'x', '--ui-port', '0', '--ui-host', '0.0.0.0'],
    ]) {
      const res = await runCli(args, {}, 30_000);
      expect(res.code, args[0]).toBe(2);
      expect(res.stderr).toContain('--ui-host 0.0.0.0 (env JOURNEYLENS_UI_HOST) reaches beyond this machine');
      expect(res.stderr).toContain('--ui-token');
      expect(res.stderr).not.toMatch(/cannot reach Kafka/);
    }
  });
});
