// The data spec of recorded events: `spec.json` (explicit, or beside an events file, as `import`
// writes it) says how sessions are cut and drawn; training, evaluation and `render` read it the
// same way. A spec may be partial: what it leaves out takes the defaults (docs/journey-image.md
// has a complete annotated one), and an image without `eventTypes` learns them from the data
// when training (vocabulary.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCodes, UserError } from '../errors.ts';
import { type DataSpec, defaultImageSpec, defaultSessionizationSpec, validateDataSpec } from '../journey/image-spec.ts';

export interface LoadedDataSpec {
  spec: DataSpec;
  /** Whether the spec named the event-type vocabulary (else the defaults' is in `spec`; training learns one). */
  eventTypesGiven: boolean;
  /** Whether the spec named pageBuckets. */
  pageBucketsGiven: boolean;
  /** The file it came from, if any. */
  path?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a spec.json that may leave out anything: the missing fields take the defaults. */
export function parsePartialDataSpec(text: string, source: string): Omit<LoadedDataSpec, 'path'> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${source} is not valid JSON (${(err as Error).message}); fix the file or regenerate it.`, { cause: err, exitCode: 2 });
  }
  if (!isObject(raw)) throw new UserError(ErrorCodes.CONFIG_INVALID, `${source} must be a JSON object with "image" and/or "sessionization", got ${JSON.stringify(raw)}.`, { exitCode: 2 });
  const image = raw.image === undefined ? {} : raw.image;
  const session = raw.sessionization === undefined ? {} : raw.sessionization;
  // Not objects: validation words the error; objects: merged over the defaults first.
  const merged = {
    ...raw,
    image: isObject(image) ? { ...defaultImageSpec, ...image } : image,
    sessionization: isObject(session) ? { ...defaultSessionizationSpec, ...session } : session,
  };
  return {
    spec: validateDataSpec(merged, source),
    eventTypesGiven: isObject(image) && image.eventTypes !== undefined,
    pageBucketsGiven: isObject(image) && image.pageBuckets !== undefined,
  };
}

/** Reads `spec.json` (explicit, or beside the events file), merged over the defaults; the defaults alone when there is none. */
export function loadPartialDataSpec(specPath: string | undefined, eventsPath: string | undefined): LoadedDataSpec {
  const path = specPath ?? (eventsPath !== undefined ? join(dirname(eventsPath), 'spec.json') : undefined);
  if (path === undefined || !existsSync(path)) {
    if (specPath !== undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, `--spec ${specPath}: no such file.`, { exitCode: 2 });
    return { spec: { image: defaultImageSpec, sessionization: defaultSessionizationSpec }, eventTypesGiven: false, pageBucketsGiven: false };
  }
  return { ...parsePartialDataSpec(readFileSync(path, 'utf8'), path), path };
}

/** Reads `spec.json` (explicit, or beside the events), merged over the defaults. */
export function loadDataSpec(specPath: string | undefined, eventsPath: string): DataSpec {
  return loadPartialDataSpec(specPath, eventsPath).spec;
}
