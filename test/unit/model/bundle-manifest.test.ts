import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src/model/bundle-manifest.ts';
import { writeManifest } from '../../../src/training/bundle-writer.ts';
import { defaultImageSpec, defaultSessionizationSpec } from '../../../src/journey/image-spec.ts';

function makeBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jl-bundle-'));
  mkdirSync(join(dir, 'encoder'));
  writeFileSync(join(dir, 'encoder', 'weights.bin'), Buffer.from([1, 2, 3, 4, 5]));
  writeFileSync(join(dir, 'clusters.json'), JSON.stringify([{ id: 0 }]));
  writeManifest(dir, { modelVersion: 'm1', createdAt: '2026-01-01T00:00:00Z', imageSpec: defaultImageSpec, sessionization: defaultSessionizationSpec, training: {}, metrics: {} });
  return dir;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the bundle to be refused');
}

describe('bundle manifest', () => {
  it('accepts an intact bundle and lists every file with its sha256', () => {
    const dir = makeBundle();
    const m = verifyBundle(dir);
    expect(Object.keys(m.files).sort()).toEqual(['clusters.json', 'encoder/weights.bin']);
    expect(m.files['encoder/weights.bin']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a bundle with one byte changed in the weights, naming the file', () => {
    const dir = makeBundle();
    const p = join(dir, 'encoder', 'weights.bin');
    const b = readFileSync(p);
    b[2] = (b[2] as number) ^ 0xff;
    writeFileSync(p, b);
    expect(refusal(() => verifyBundle(dir))).toMatch(/encoder\/weights\.bin does not match its checksum in manifest\.json/);
  });

  it('names a missing file, corrupt JSON, a wrong format version and a spec mismatch', () => {
    let dir = makeBundle();
    rmSync(join(dir, 'clusters.json'));
    expect(refusal(() => verifyBundle(dir))).toContain('clusters.json is missing.');

    dir = makeBundle();
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    expect(refusal(() => verifyBundle(dir))).toMatch(/manifest\.json is not valid JSON/);

    dir = makeBundle();
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, formatVersion: 99 }));
    expect(refusal(() => verifyBundle(dir))).toContain('format version 99 is not supported');

    dir = makeBundle();
    expect(refusal(() => verifyBundle(dir, { expectSpec: { ...defaultImageSpec, rows: 16 } }))).toContain('image spec differs');
  });
});
