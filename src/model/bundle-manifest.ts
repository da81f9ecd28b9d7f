// Verifies a model bundle's manifest (contracts/bundle-format.ts): format version, the sha256 of
// every other file, the image spec. A bad bundle is refused with a message that names what is
// wrong, so a hot reload can keep the old model. Training writes it (training/bundle-writer.ts).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FORMAT_VERSION, type BundleManifest, MANIFEST_FILE } from '../contracts/bundle-format.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type ImageSpec } from '../journey/image-spec.ts';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function bad(dir: string, message: string): never {
  throw new UserError(ErrorCodes.BUNDLE_INVALID, `model bundle ${dir} refused: ${message}`);
}

/** Parses a JSON file of the bundle, naming the file when it is corrupt. */
export function readBundleJson<T>(dir: string, file: string): T {
  const p = join(dir, file);
  if (!existsSync(p)) bad(dir, `${file} is missing.`);
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  } catch (err) {
    return bad(dir, `${file} is not valid JSON (${(err as Error).message}).`);
  }
}

/**
 * Verifies the manifest and every checksum. `expectSpec`, when given, must equal the bundle's
 * image spec (a live pipeline cannot switch specs under open sessions).
 */
export function verifyBundle(dir: string, options: { expectSpec?: ImageSpec; requiredFiles?: string[] } = {}): BundleManifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) bad(dir, 'it is not a directory.');
  const manifest = readBundleJson<BundleManifest>(dir, MANIFEST_FILE);
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.files !== 'object') bad(dir, `${MANIFEST_FILE} has no "files" section.`);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) {
    bad(dir, `format version ${String(manifest.formatVersion)} is not supported by this journeylens (it reads version ${BUNDLE_FORMAT_VERSION}); retrain the bundle with this version.`);
  }
  for (const f of options.requiredFiles ?? []) {
    if (!(f in manifest.files)) bad(dir, `${f} is not listed in ${MANIFEST_FILE}.`);
  }
  for (const [file, want] of Object.entries(manifest.files)) {
    const p = join(dir, file);
    if (!existsSync(p)) bad(dir, `${file} is missing.`);
    const got = sha256File(p);
    if (got !== want) bad(dir, `${file} does not match its checksum in ${MANIFEST_FILE} (sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…); the file is corrupt or was changed.`);
  }
  if (options.expectSpec && JSON.stringify(options.expectSpec) !== JSON.stringify(manifest.imageSpec)) {
    bad(dir, 'its image spec differs from the one the running pipeline uses; restart the processor to switch specs.');
  }
  return manifest;
}
