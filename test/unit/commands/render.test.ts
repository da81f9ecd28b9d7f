import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    await expect(runRender({ out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(/render needs --events FILE and --session ID/);
  });

  it('refuses a bad events line with its line number and field', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"eventId":"e1","sessionId":"s","timestamp":1,"type":"a"}\n{"eventId":"e2","sessionId":"s","timestamp":"soon","type":"a"}\n');
    await expect(runRender({ events: bad, session: 's', out: join(dir, 'x.png'), scale: 8 })).rejects.toThrow(/bad.jsonl:2: timestamp must be event time in ms/);
  });
});
