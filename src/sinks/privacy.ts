// Personal data on the way out (docs/privacy.md): pseudonymous ids for the signals topic (a keyed
// hash, so a reader of the topic cannot recover the ids, and cannot test a guessed id without the
// key; the same id always gives the same pseudonym, so sessions and users can still be followed),
// and a deny-list of fields removed from dead-letter copies (by default a copy keeps the original
// bytes, which is what `dlq replay` needs).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type JourneySignal } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { parseOptions } from '../options.ts';

const KEY_OPTION = '--pseudonymize-key-file (env JOURNEYLENS_PSEUDONYMIZE_KEY_FILE)';
const DENY_OPTION = '--dlq-deny-fields (env JOURNEYLENS_DLQ_DENY_FIELDS)';
/** What a denied field's value becomes in a dead-letter copy. */
export const DENIED = '[REMOVED]';
/** Header of a dead-letter copy whose value was changed by the deny-list: the fields removed, or `value` when the value could not be read as JSON and was left out. */
export const DLQ_REDACTED_HEADER = 'x-journeylens-redacted';

/** HMAC-SHA-256 keys shorter than this are refused: a short key can be guessed. */
export const MIN_KEY_BYTES = 32;

/** Reads the pseudonymization key (the file's bytes, surrounding whitespace trimmed). */
export function readPseudonymKey(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${KEY_OPTION}: cannot read ${file}: ${(err as Error).message}`, { exitCode: 2 });
  }
  const key = Buffer.from(raw.toString('latin1').trim(), 'latin1');
  if (key.length < MIN_KEY_BYTES) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${KEY_OPTION}: ${file} holds ${key.length} bytes; the key must be at least ${MIN_KEY_BYTES} random bytes (e.g. 32 bytes of /dev/urandom in base64), kept secret and the same on every instance.`, { exitCode: 2 });
  }
  return key;
}

/** The pseudonym of an id: "p_" and 22 base64url characters (128 bits) of HMAC-SHA-256(key, id). */
export function pseudonymizer(key: Buffer): (id: string) => string {
  return (id) => `p_${createHmac('sha256', key).update(id, 'utf8').digest('base64url').slice(0, 22)}`;
}

/** The signal as the signals topic carries it: session and user ids replaced by their pseudonyms. */
export function pseudonymousSignal(signal: JourneySignal, pseudonym: (id: string) => string): JourneySignal {
  return { ...signal, sessionId: signal.sessionId === '' ? '' : pseudonym(signal.sessionId), userId: signal.userId === null ? null : pseudonym(signal.userId) };
}

const fieldPath = z.string().regex(/^[^.]+(\.[^.]+)*$/, { error: 'must be a dotted path like properties.email (no empty segments)' });

/** Validates the deny-list: dotted paths into the record's JSON value. */
export function parseDenyFields(raw: readonly string[] | undefined): string[][] {
  if (raw === undefined) return [];
  const paths = parseOptions(z.array(fieldPath), raw, { name: (path) => `${DENY_OPTION} entry "${String(raw[Number(path[0])])}"`, rules: 'schema' });
  return paths.map((p) => p.split('.'));
}

/**
 * A dead letter's value with the denied fields replaced by "[REMOVED]". A value that is not a
 * JSON object cannot be searched for fields, so it is left out whole (null); the header says so.
 */
export function denyFields(value: Buffer | null, paths: readonly string[][]): { value: Buffer | null; removed: string } | undefined {
  if (paths.length === 0 || value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { value: null, removed: 'value' };
  const removed: string[] = [];
  for (const path of paths) {
    let at: unknown = parsed;
    for (const key of path.slice(0, -1)) at = at !== null && typeof at === 'object' && Object.hasOwn(at, key) ? (at as Record<string, unknown>)[key] : undefined;
    const last = path.at(-1) as string;
    if (at !== null && typeof at === 'object' && Object.hasOwn(at, last)) {
      (at as Record<string, unknown>)[last] = DENIED;
      removed.push(path.join('.'));
    }
  }
  if (removed.length === 0) return undefined;
  return { value: Buffer.from(JSON.stringify(parsed)), removed: removed.join(',') };
}
