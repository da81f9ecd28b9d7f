// Reads click events from a JSON Lines file (one ClickEvent object per line), as written by
// the importers and used by `journeylens render`. Lines are checked field by field so a bad
// file is refused with the line number and the field, not turned into odd images.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ClickEvent } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';

function bad(where: string, message: string): UserError {
  return new UserError(ErrorCodes.INPUT_INVALID, `${where}: ${message}`);
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw bad(where, `${key} must be a string or null, got ${JSON.stringify(v)}`);
  return v;
}

function optionalNumber(o: Record<string, unknown>, key: string, where: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(where, `${key} must be a number or null, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks one decoded JSON value against the ClickEvent shape; `where` prefixes error messages. */
export function toClickEvent(value: unknown, where: string): ClickEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(where, 'expected a JSON object (one click event per line)');
  const o = value as Record<string, unknown>;
  for (const key of ['eventId', 'type'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') throw bad(where, `${key} must be a non-empty string, got ${JSON.stringify(o[key])}`);
  }
  const sessionId = o.sessionId ?? '';
  if (typeof sessionId !== 'string') throw bad(where, `sessionId must be a string (empty: sessionize by userId), got ${JSON.stringify(o.sessionId)}`);
  const timestamp = o.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw bad(where, `timestamp must be event time in ms since the epoch, got ${JSON.stringify(timestamp)}`);
  const props = o.properties ?? {};
  if (typeof props !== 'object' || props === null || Array.isArray(props)) throw bad(where, 'properties must be an object of strings');
  return {
    eventId: o.eventId as string,
    sessionId,
    userId: optionalString(o, 'userId', where),
    timestamp,
    type: o.type as string,
    page: optionalString(o, 'page', where),
    durationMs: optionalNumber(o, 'durationMs', where),
    value: optionalNumber(o, 'value', where),
    properties: Object.fromEntries(Object.entries(props as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
  };
}

/** Streams a JSONL events file: each event with its raw line (blank lines skipped). */
export async function* clickEventLines(path: string): AsyncGenerator<{ event: ClickEvent; line: string }> {
  let lineNo = 0;
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw bad(`${path}:${lineNo}`, `not valid JSON (${(err as Error).message})`);
      }
      yield { event: toClickEvent(value, `${path}:${lineNo}`), line };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(ErrorCodes.INPUT_INVALID, `--events ${path}: no such file`, { cause: err });
    throw err;
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Reads the events of a JSONL file; `keep` filters before validation cost adds up. */
export async function readClickEventsJsonl(path: string, keep: (e: ClickEvent) => boolean = () => true): Promise<{ events: ClickEvent[]; read: number }> {
  const events: ClickEvent[] = [];
  let read = 0;
  for await (const { event } of clickEventLines(path)) {
    read++;
    if (keep(event)) events.push(event);
  }
  return { events, read };
}
