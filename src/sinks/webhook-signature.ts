// How a webhook request is signed, and how a receiver checks it (docs/webhook.md). Kept apart
// from the sink so a receiver written in TypeScript can import the check alone.
//
// Two schemes are sent side by side:
// - Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (the alertId, the same on
//   every retry and after a restart), `webhook-timestamp` (unix seconds of this attempt) and
//   `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. Receivers verify it
//   with the standardwebhooks libraries (or Svix's) in a few lines; this is the scheme to use.
// - The older `X-Journeylens-Signature: v1=<hex HMAC-SHA256 of "timestamp.body">`, kept for
//   receivers written against it until they move (deprecated; docs/webhook.md says until when).
// Binding the timestamp lets a receiver refuse old requests (replays) without keeping every id it
// ever saw; the id dedupes the retries that arrive within the tolerance window.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, UserError } from '../errors.ts';

/** Header names, lower-case as Node's http module exposes them. */
export const WebhookHeaders = {
  /** Standard Webhooks: the message id (the alertId), stable across retries. */
  id: 'webhook-id',
  /** Standard Webhooks: unix seconds when this attempt was signed. */
  standardTimestamp: 'webhook-timestamp',
  /** Standard Webhooks: space-separated `v1,<base64>` signatures. */
  standardSignature: 'webhook-signature',
  /** Deprecated scheme: unix seconds, as webhook-timestamp. */
  timestamp: 'x-journeylens-timestamp',
  /** Deprecated scheme: comma-separated `v1=<hex>` signatures. */
  signature: 'x-journeylens-signature',
  idempotencyKey: 'idempotency-key',
  attempt: 'x-journeylens-attempt',
} as const;

export const SIGNATURE_SCHEME = 'v1';

/** The prefix of a Standard Webhooks secret: `whsec_` + base64 of the key bytes. */
export const STANDARD_SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of the Standard Webhooks signature. A `whsec_<base64>` secret (the spec's form,
 * what the standardwebhooks libraries take as is) gives the decoded bytes; any other secret is
 * used as its UTF-8 bytes (a receiver then passes it with `{ format: 'raw' }`).
 */
export function standardWebhookKey(secret: string): Buffer {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
  const key = Buffer.from(b64, 'base64');
  // Buffer.from ignores characters outside the alphabet: a typo would silently change the key.
  if (key.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `the webhook secret starts with ${STANDARD_SECRET_PREFIX} but what follows is not base64 key bytes; generate one with \`node -e "console.log('whsec_' + require('node:crypto').randomBytes(32).toString('base64'))"\` (JOURNEYLENS_WEBHOOK_SECRET or JOURNEYLENS_WEBHOOK_SECRET_FILE).`,
      { exitCode: 2 },
    );
  }
  return key;
}

/** `v1,<base64>` over `${msgId}.${timestampSec}.${body}` (Standard Webhooks). */
export function signStandardWebhook(key: Buffer, msgId: string, timestampSec: number, body: string | Buffer): string {
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSec}.`).update(body).digest('base64');
  return `${SIGNATURE_SCHEME},${mac}`;
}

/** `v1=<hex>` for a timestamp in unix seconds and the exact body bytes sent (the deprecated scheme). */
export function signWebhook(secret: string | Buffer, timestampSec: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex');
  return `${SIGNATURE_SCHEME}=${mac}`;
}

export interface VerifyWebhookInput {
  secret: string | Buffer;
  /** The raw request body, byte for byte (not re-serialized JSON). */
  body: string | Buffer;
  /** Value of X-Journeylens-Timestamp. */
  timestamp: string | undefined;
  /** Value of X-Journeylens-Signature; several comma-separated `v1=` values are allowed (secret rotation). */
  signature: string | undefined;
  /** Oldest (and furthest-future) timestamp accepted, in seconds; default 300. */
  toleranceSec?: number;
  now?: () => number;
}

export type VerifyWebhookResult = { ok: true; timestampSec: number } | { ok: false; reason: 'missing-header' | 'bad-timestamp' | 'stale' | 'bad-signature' };

/** Checks the deprecated X-Journeylens-Signature scheme (new receivers: the standardwebhooks libraries). */
export function verifyWebhookSignature(input: VerifyWebhookInput): VerifyWebhookResult {
  if (input.timestamp === undefined || input.signature === undefined) return { ok: false, reason: 'missing-header' };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const ts = Number(input.timestamp);
  const nowSec = Math.floor((input.now ?? Date.now)() / 1000);
  if (Math.abs(nowSec - ts) > (input.toleranceSec ?? 300)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signWebhook(input.secret, ts, input.body));
  const matches = input.signature
    .split(',')
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return matches ? { ok: true, timestampSec: ts } : { ok: false, reason: 'bad-signature' };
}
