// Writes a model bundle's manifest (contracts/bundle-format.ts) for the files in its directory:
// the sha256 of every file but the manifest, in name order, so the model runtime can verify them.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUNDLE_FORMAT_VERSION, type BundleManifest, MANIFEST_FILE } from '../contracts/bundle-format.ts';
import { sha256File } from '../model/bundle-manifest.ts';

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else if (relative(base, p) !== MANIFEST_FILE) out.push(relative(base, p));
  }
  return out;
}

/** Relative path → sha256 of every file in `dir` but the manifest, in name order. */
export function bundleFileHashes(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of listFiles(dir)) files[f] = sha256File(join(dir, f));
  return files;
}

/** Writes manifest.json for everything currently in `dir`. */
export function writeManifest(dir: string, manifest: Omit<BundleManifest, 'files' | 'formatVersion'>): BundleManifest {
  const files = bundleFileHashes(dir);
  const full: BundleManifest = { formatVersion: BUNDLE_FORMAT_VERSION, ...manifest, files };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
