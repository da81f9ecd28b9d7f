// The ClickEvent Avro type and a deterministic object-container-file writer. avsc picks a
// random sync marker by default; a seeded one keeps `simulate` output byte-identical.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// avsc is CommonJS whose exports Node cannot list statically: use the default import.
import avro, { type Type, type streams } from 'avsc';
import { ErrorCodes, JourneylensError } from '../errors.ts';

// src/sim/avro.ts under tsx/vitest, dist/src/sim/avro.js when built; schemas/ is at the package root.
const CANDIDATES = ['../../schemas/click-event.avsc', '../../../schemas/click-event.avsc'];
let cached: Type | undefined;

export function clickEventAvroType(): Type {
  if (cached) return cached;
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return (cached = avro.Type.forSchema(JSON.parse(readFileSync(path, 'utf8')) as Parameters<typeof avro.Type.forSchema>[0]));
  }
  throw new JourneylensError(ErrorCodes.INTERNAL, `schemas/click-event.avsc not found near ${fileURLToPath(import.meta.url)}; the package is incomplete.`);
}

/** An Avro container encoder (pipe it to a file); `syncMarker` must be 16 bytes. */
export function createClickEventEncoder(syncMarker: Buffer): streams.BlockEncoder {
  return new avro.streams.BlockEncoder(clickEventAvroType(), { syncMarker, codec: 'null' });
}
