import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickEvent } from '../../../src/contracts/records.ts';
import { ARCHETYPES } from '../../../src/sim/archetypes.ts';
import { ARCHETYPES_HEADER, LABELS_HEADER, writeSimulationFiles } from '../../../src/sim/files.ts';
import { createSimulation } from '../../../src/sim/generator.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'jl-sim-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function readAvro(path: string): Promise<ClickEvent[]> {
  const out: ClickEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(path)
      .on('data', (e: ClickEvent) => out.push({ ...e, properties: { ...e.properties } }))
      .on('end', resolve)
      .on('error', reject);
  });
  return out;
}

describe('writeSimulationFiles', () => {
  const opts = { sessions: 600, seed: 7 };
  let a = '';

  it('writes the four files, byte-identical for the same seed', async () => {
    a = tmp();
    const b = tmp();
    await writeSimulationFiles({ ...opts, outDir: a });
    await writeSimulationFiles({ ...opts, outDir: b });
    const files = readdirSync(a).sort();
    expect(files).toEqual(['archetypes.csv', 'events.avro', 'events.jsonl', 'labels.csv']);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
  });

  it('writes different files for a different seed', async () => {
    const c = tmp();
    await writeSimulationFiles({ ...opts, seed: 8, outDir: c });
    for (const f of ['events.jsonl', 'events.avro', 'labels.csv', 'archetypes.csv']) {
      expect(readFileSync(join(c, f)).equals(readFileSync(join(a, f))), f).toBe(false);
    }
  });

  it('holds the same events in the Avro container as in the JSON lines', async () => {
    const json = readFileSync(join(a, 'events.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ClickEvent);
    expect(await readAvro(join(a, 'events.avro'))).toEqual(json);
  });

  it('labels every user once (userId,churned) and names the archetype of every session', async () => {
    const sim = createSimulation(opts);
    const labels = readFileSync(join(a, 'labels.csv'), 'utf8').trimEnd().split('\n');
    expect(labels[0]).toBe(LABELS_HEADER);
    expect(labels.slice(1)).toEqual(sim.users.map((u) => `${u.userId},${u.churned ? 1 : 0}`));
    const sessions = new Set(
      readFileSync(join(a, 'events.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as ClickEvent).sessionId),
    );
    const rows = readFileSync(join(a, 'archetypes.csv'), 'utf8').trimEnd().split('\n');
    expect(rows[0]).toBe(ARCHETYPES_HEADER);
    expect(rows).toHaveLength(sessions.size + 1);
    for (const row of rows.slice(1)) {
      const [sessionId, archetype] = row.split(',');
      expect(sessions.has(sessionId!)).toBe(true);
      expect(ARCHETYPES as readonly string[]).toContain(archetype);
    }
  });

  it('returns a summary that agrees with the files', async () => {
    const d = tmp();
    const s = await writeSimulationFiles({ sessions: 300, seed: 3, outDir: d });
    const lines = readFileSync(join(d, 'events.jsonl'), 'utf8').trimEnd().split('\n');
    expect(s.events).toBe(lines.length);
    expect(s.sessions).toBe(300);
    expect(s.newSessions + s.returningSessions).toBe(300);
    expect(Object.values(s.archetypeSessions).reduce((x, y) => x + y, 0)).toBe(300);
    const churned = readFileSync(join(d, 'labels.csv'), 'utf8').trimEnd().split('\n').slice(1).filter((l) => l.endsWith(',1')).length;
    expect(s.churnRate).toBeCloseTo(churned / s.users, 10);
    expect(s.dwellMs.p10).toBeLessThan(s.dwellMs.p50);
    expect(s.dwellMs.p50).toBeLessThan(s.dwellMs.p90);
    expect(s.eventsPerSession.mean).toBeCloseTo(s.events / 300, 10);
    const purchases = lines.map((l) => JSON.parse(l) as ClickEvent).filter((e) => e.type === 'purchase');
    expect(s.conversionRate).toBeCloseTo(new Set(purchases.map((e) => e.sessionId)).size / 300, 10);
    expect(s.revenue).toBeCloseTo(purchases.reduce((x, e) => x + (e.value ?? 0), 0), 2);
  });
});
