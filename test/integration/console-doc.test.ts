// docs/console.md's commands, run as written with the built CLI on the test's broker (the doc's
// `kafka:9092` and topic names swapped for the test's, any-free-port for the fixed ones), and
// their console looked at in headless Chromium: `npm run demo` prints the console's address and
// the console shows the demo's traffic; `journeylens ui` serves the demo's topics, and behind
// the token the doc's command makes; `journeylens run --ui-port` serves it beside a processor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { type CliProcess, consoleUrl, startCli } from '../helpers/cli.ts';
import { type HeadlessChromium, launchChromium, recordTrouble } from '../helpers/browser.ts';
import { codeBlocks, repoRoot } from '../helpers/docs.ts';
import { createTopics, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');
const DOC = 'docs/console.md';
const lines = codeBlocks(DOC, 'sh').flatMap((b) => b.split('\n')).filter((l) => l.trim() !== '');

// The functions handed to page.waitForFunction run in the browser (no DOM library in the build).
interface Img {
  complete: boolean;
  naturalWidth: number;
  src: string;
}
declare const document: { querySelectorAll<T = { textContent: string | null }>(selector: string): ArrayLike<T> & Iterable<T>; getElementById(id: string): { textContent: string | null } | null };

/** The doc's line starting with `start` (after any VAR=value prefix), as env and arguments after `journeylens`. */
function docLine(start: string): { env: Record<string, string>; args: string[] } {
  const line = lines.find((l) => l.replace(/^(\w+=\S+\s+)*/, '').startsWith(start));
  expect(line, `${DOC} has a line starting with "${start}"`).toBeDefined();
  const words = line!.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^\w+=/.test(words[0]!)) {
    const [k, v] = words.shift()!.split('=') as [string, string];
    env[k] = v;
  }
  expect(words[0]).toBe('journeylens');
  return { env, args: words.slice(1) };
}

/** Swaps the doc's broker and topics for the test's, and asks for any free port. */
function pointed(args: string[], topics: Record<string, string>): string[] {
  return [...args.map((w) => (w === 'kafka:9092' ? brokers : (topics[w] ?? w))), '--ui-port', '0'];
}

async function stop(proc: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  proc.kill(signal);
  expect(await proc.exited).toBe(0);
}

describe(`${DOC} (built CLI, real broker, headless Chromium)`, () => {
  let browser: HeadlessChromium;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("runs the demo, whose console shows its traffic; then journeylens ui serves the demo's topics, and behind the doc's token", { timeout: 300_000 }, async () => {
    expect(lines).toContain('npm run demo');
    const script = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo!;
    expect(script.endsWith('node bin/journeylens.js demo')).toBe(true);
    // the doc: "or uses yours when KAFKA_BROKERS is set"
    const demo = startCli(['demo'], { KAFKA_BROKERS: brokers });
    onTestFinished(() => demo.kill('SIGKILL'));
    await demo.waitForOutput(/▶ web console at http:\/\/127\.0\.0\.1:\d+\//, 120_000);
    const url = /▶ web console at (\S+)/.exec(demo.stdout())![1]!;

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const trouble = recordTrouble(page);
    await page.goto(url);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<Img>('.cluster-card img')];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.src.startsWith('blob:') && i.naturalWidth > 0);
    }, undefined, { timeout: 20_000 });
    // the demo's traffic: alerts in the feed and counted, high-band ones in the last hour's figure
    // (the per-minute figures wait for a minute to close)
    await page.waitForSelector('#feed > li[data-alert-id]', { timeout: 60_000 });
    await page.waitForFunction(() => ['count-all', 'kpi-high'].every((id) => Number((document.getElementById(id)?.textContent ?? '').replaceAll(',', '')) > 0), undefined, { timeout: 30_000 });
    expect(trouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
    await page.context().close();
    await stop(demo, 'SIGINT');
    expect(demo.stdout()).toMatch(/✔ demo finished: \d+ events produced/);

    // journeylens ui as the doc writes it, on the demo's output topics
    const demoTopics = { 'journeylens.signals': 'demo.signals', 'journeylens.alerts': 'demo.alerts' };
    const plain = docLine('journeylens ui ');
    const ui = startCli(pointed(plain.args, demoTopics), plain.env);
    onTestFinished(() => ui.kill('SIGKILL'));
    const uiUrl = await consoleUrl(ui);
    await ui.waitForOutput(/replayed the window of the output topics/, 60_000);
    const model = (await (await fetch(`${uiUrl}/api/model`)).json()) as { mode: string };
    expect(model.mode).toBe('ui');
    await stop(ui);

    // the token the doc's command makes, in the file the doc names, binding 0.0.0.0
    const dir = mkdtempSync(join(tmpdir(), 'jl-console-doc-'));
    const make = lines.find((l) => l.endsWith('> ui-token'))!;
    execFileSync('sh', ['-c', make], { cwd: dir });
    const token = readFileSync(join(dir, 'ui-token'), 'utf8').trim();
    const secured = docLine('journeylens ui --brokers kafka:9092 --signals-topic journeylens.signals --alerts-topic journeylens.alerts --ui-host 0.0.0.0');
    expect(secured.env).toEqual({ JOURNEYLENS_UI_TOKEN_FILE: 'ui-token' });
    const guarded = startCli(pointed(secured.args, demoTopics), { JOURNEYLENS_UI_TOKEN_FILE: join(dir, 'ui-token') });
    onTestFinished(() => guarded.kill('SIGKILL'));
    const guardedUrl = await consoleUrl(guarded);
    expect((await fetch(`${guardedUrl}/api/model`)).status).toBe(401);
    expect((await fetch(`${guardedUrl}/api/model`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const tokenPage = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const tokenTrouble = recordTrouble(tokenPage);
    // the address the doc tells users to open, with the token in the fragment
    await tokenPage.goto(`${guardedUrl}/#token=${token}`);
    await tokenPage.waitForSelector('#conn[data-state="live"]', { timeout: 20_000 });
    // the demo's alerts, read back from its topics
    await tokenPage.waitForSelector('#feed > li[data-alert-id]', { timeout: 30_000 });
    expect(tokenTrouble).toEqual({ dialogs: [], errors: [], consoleErrors: [] });
    await tokenPage.context().close();
    await stop(guarded);
  });

  it('serves the console beside a processor with the run line', { timeout: 180_000 }, async () => {
    const kafka = testKafka(brokers);
    const topics = { clicks: uniqueName('clicks'), 'journeylens.signals': uniqueName('signals'), 'journeylens.alerts': uniqueName('alerts') };
    await createTopics(kafka, Object.values(topics));
    const { env, args } = docLine('journeylens run ');
    expect(args).toContain('--ui-port');
    // the metrics port too: its default (9464) may be taken on a shared machine
    const run = startCli([...pointed(args, topics), '--metrics-port', '0', '--group', uniqueName('g')], env);
    onTestFinished(() => run.kill('SIGKILL'));
    const url = await consoleUrl(run);
    await run.waitForOutput(/journeylens is running/, 90_000);
    const model = (await (await fetch(`${url}/api/model`)).json()) as { mode: string; clusters: unknown[] };
    expect(model.mode).toBe('run');
    expect(model.clusters.length).toBeGreaterThan(0);
    await stop(run);
  });
});
