import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { runRender } from '../../../src/commands/render.ts';
import { defaultImageSpec, defaultSessionizationSpec, imageWidth, serializeDataSpec } from '../../../src/journey/image-spec.ts';

const demo = new URL('../../../docs/examples/demo-session.jsonl', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'journeylens-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pixelsDarkerThan(png: PNG, level: number, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (png.data[(y * png.width + x) * 4]! < level) n++;
  return n;
}

describe('journeylens render', () => {
  it('writes a PNG of the session, scaled up, with labels above the cells', async () => {
    const out = join(dir, 'demo.png');
    const { summary } = await runRender({ events: demo, session: 'demo-session-1', out, scale: 10 });
    expect(summary).toMatch(/18 events/);
    const png = PNG.sync.read(readFileSync(out));
    const cols = imageWidth(defaultImageSpec);
    expect(png.width).toBeGreaterThanOrEqual(cols * 10);
    expect(png.height).toBeGreaterThanOrEqual(defaultImageSpec.rows * 10);
    // text (dark pixels) in the top part, where the title and vertical column labels are
    expect(pixelsDarkerThan(png, 80, 0, 0, png.width, 60)).toBeGreaterThan(100);
  });

  it('renders the same bytes twice (deterministic)', async () => {
    const a = await runRender({ events: demo, session: 'demo-session-1', out: join(dir, 'a.png'), scale: 8 });
    const b = await runRender({ events: demo, session: 'demo-session-1', out: join(dir, 'b.png'), scale: 8 });
    expect(a.png.equals(b.png)).toBe(true);
  });

  it('uses --spec: a smaller image gives a smaller PNG', async () => {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, serializeDataSpec({ image: { ...defaultImageSpec, rows: 8, pageBuckets: 0 }, sessionization: defaultSessionizationSpec }));
    const small = await runRender({ events: demo, session: 'demo-session-1', out: join(dir, 'small.png'), spec, scale: 8 });
    const full = await runRender({ events: demo, session: 'demo-session-1', out: join(dir, 'full.png'), scale: 8 });
    const s = PNG.sync.read(small.png);
    const f = PNG.sync.read(full.png);
    expect(s.height).toBeLessThan(f.height);
    expect(small.summary).toMatch(/8x14 image/);
  });

  it('names the option when the session is not in the file', async () => {
    await expect(runRender({ events: demo, session: 'nope', out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(/--session nope: no event of that session among the 18 events/);
    await expect(runRender({ events: join(dir, 'missing.jsonl'), session: 's', out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(/--events .*missing.jsonl: no such file/);
    await expect(runRender({ out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(/render needs --events FILE \(or --topic with --brokers\) and --session ID/);
  });

  it('names unusable lines with their line number and field when they leave the session without events', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"eventId":"e1","sessionId":"s","timestamp":"soon","type":"a"}\n{"eventId":"e2","sessionId":"s","timestamp":"later","type":"a"}\n');
    await expect(runRender({ events: bad, session: 's', out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(
      /--session s: no event of that session among the 0 events in .*bad.jsonl \(2 records: 0 events, 2 unusable: 2 wrong_type \(first: .*bad.jsonl:1: timestamp must be a number \(ms since the epoch\), got a string\.\)\)/,
    );
  });

  // Issue 17: render of a 226-event session drew 23 events without saying which part it shows.
  it('says which events of a long session the rows show, and draws a chosen time range', async () => {
    mkdirSync(join(dir, 'long'), { recursive: true });
    const long = join(dir, 'long', 'long.jsonl');
    const t0 = Date.UTC(2026, 5, 1);
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ eventId: `e${i}`, sessionId: 'long', timestamp: t0 + i * 60_000, type: i % 2 ? 'page_view' : 'search' }));
    writeFileSync(long, `${lines.join('\n')}\n`);
    const all = await runRender({ events: long, session: 'long', out: join(dir, 'long.png'), scale: 8 });
    expect(all.summary).toContain(
      'rows 1-32 show events 19-50 of 50 (the latest 32; earlier ones are not drawn: use --start/--end to draw another part), from 2026-06-01T00:18:00.000Z to 2026-06-01T00:49:00.000Z',
    );
    const part = await runRender({ events: long, session: 'long', out: join(dir, 'part.png'), scale: 8, start: '2026-06-01T00:05:00Z', end: String(t0 + 15 * 60_000) });
    expect(part.summary).toContain('session long, 10 events');
    expect(part.summary).toContain('rows 1-10 show all 10 events, from 2026-06-01T00:05:00.000Z to 2026-06-01T00:14:00.000Z');
    await expect(runRender({ events: long, session: 'long', out: join(dir, 'x.png'), scale: 8, start: 'noon' })).rejects.toThrow(/--start must be an event time in ms or an ISO-8601 date-time/);
  });

  it('reads a foreign-shaped file through the ingestion config of --config', async () => {
    mkdirSync(join(dir, 'foreign'), { recursive: true });
    const file = join(dir, 'foreign', 'foreign.jsonl');
    const cfg = join(dir, 'jl.json');
    const t0 = Date.UTC(2026, 5, 1) / 1000;
    writeFileSync(file, `${[0, 1, 2].map((i) => JSON.stringify({ session: 12, aid: 1517085 + i, ts: t0 + i * 30, type: ['clicks', 'carts', 'orders'][i] })).join('\n')}\n`);
    writeFileSync(cfg, JSON.stringify({ ingestion: { eventIdFallback: 'hash', mapping: { sessionId: 'session', page: 'aid', timestamp: { path: 'ts', unit: 's' }, type: { field: 'type', values: { clicks: 'product_view', carts: 'add_to_cart', orders: 'purchase' } } } } }));
    const r = await runRender({ events: file, config: cfg, session: '12', out: join(dir, 'f.png'), scale: 8 });
    expect(r.summary).toContain('session 12, 3 events');
  });
});
