// `npm run docs:screenshot`: docs/img/console.png, the web console during `journeylens demo`.
// Starts the demo (the built CLI, its own local broker unless KAFKA_BROKERS is set), opens the
// console URL it prints in headless Chromium (the tests' browser: test/helpers/browser.ts),
// waits for the traffic to fill the page (every prototype image loaded, alerts in the feed, two
// minutes of chart points), looks up the session of the newest high alert, and saves the page.
// Prints what the picture shows; the demo and the browser are stopped whatever happens.
//
//   npm run docs:screenshot [-- --out docs/img/console.png] [--seconds 75] [--width 1440]
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { launchChromium } from '../test/helpers/browser.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const root = join(import.meta.dirname, '..');
const out = resolve(arg('--out', join(root, 'docs', 'img', 'console.png')));
// The per-minute charts need points in two minutes to draw a line.
const seconds = Number(arg('--seconds', '75'));
const width = Number(arg('--width', '1440'));

// The page runs in the browser; the project compiles without the DOM library.
interface Img {
  complete: boolean;
  naturalWidth: number;
  src: string;
}
declare const window: { scrollTo(x: number, y: number): void };
declare const document: { querySelectorAll<T = { textContent: string | null; scrollTop: number }>(selector: string): ArrayLike<T> & Iterable<T>; getElementById<T = { textContent: string | null }>(id: string): T | null };

const demo = spawn(process.execPath, [join(root, 'bin', 'journeylens.js'), 'demo', '--duration', String(seconds + 60), '--ui-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
let stderr = '';
demo.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
demo.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const demoExit = new Promise<number>((res) => demo.once('exit', (code, signal) => res(code ?? (signal ? 128 : 1))));

async function consoleUrl(): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const m = /▶ web console at (http:\/\/\S+)/.exec(stdout);
    if (m) return m[1]!;
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}) before printing the console's URL:\n${stdout}\n${stderr.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`the demo printed no console URL within 180 s:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const browser = await launchChromium();
try {
  const url = await consoleUrl();
  const since = Date.now();
  process.stderr.write(`console at ${url} (Chromium ${browser.version}); gathering ${seconds} s of demo traffic…\n`);
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 30_000 });
  await page.waitForFunction(
    () => {
      const imgs = [...document.querySelectorAll<Img>('.cluster-card img')];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.src.startsWith('blob:') && i.naturalWidth > 0);
    },
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForSelector('#feed > li[data-band="high"]', { timeout: seconds * 1000 });
  const left = seconds * 1000 - (Date.now() - since);
  if (left > 0) await page.waitForTimeout(left);

  // the newest high alert's session in the lookup panel, with its journey image
  await page.click('#feed > li[data-band="high"] .alert-ids button');
  await page.waitForFunction(() => {
    const img = document.getElementById<Img & { hidden: boolean }>('lookup-img');
    return img !== null && !img.hidden && img.complete && img.naturalWidth > 0;
  }, undefined, { timeout: 15_000 });
  // let the counters and the charts take the latest summary event (sent every 5 s); the lookup
  // scrolled the page, and a full-page picture keeps the sticky header where the viewport was
  // (the feed too: the click scrolled the high alert into view)
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    for (const e of document.querySelectorAll('*')) if (e.scrollTop > 0) e.scrollTop = 0;
  });
  await page.waitForTimeout(5_500);

  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  const shown = await page.evaluate(() => ({
    clusters: document.querySelectorAll('.cluster-card').length,
    alertsInFeed: document.querySelectorAll('#feed > li').length,
    activeSessions: document.getElementById('kpi-active')?.textContent,
    signalsPerMinute: document.getElementById('kpi-signals')?.textContent,
    lookedUp: document.getElementById('lookup-session')?.textContent,
  }));
  process.stdout.write(`${out}: ${statSync(out).size} bytes, ${JSON.stringify(shown)}\n`);
} finally {
  await browser.close();
  demo.kill('SIGINT');
  const code = await demoExit;
  if (code !== 0) process.stderr.write(`the demo exited with ${code}:\n${stderr.slice(-2000)}\n`);
}
