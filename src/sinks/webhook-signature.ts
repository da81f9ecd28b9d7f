// How a webhook request is signed, and how a receiver checks it (docs/webhook.md). Kept apart
// from the sink so a receiver written in TypeScript can import the check alone.
//
// The signature is HMAC-SHA256 over `${timestamp}.${rawBody}`: binding the timestamp lets a
// receiver refuse old requests (replays) without keeping every id it ever saw; the alertId in
// Idempotency-Key dedupes the retries that arrive within the tolerance window.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names, lower-case as Node's http module exposes them. */
export const WebhookHeaders = {
  timestamp: 'x-journeylens-timestamp',
  signature: 'x-journeylens-signature',
  idempotencyKey: 'idempotency-key',
  attempt: 'x-journeylens-attempt',
} as const;

export const SIGNATURE_SCHEME = 'v1';

/** `v1=<hex>` for a timestamp in unix seconds and the exact body bytes sent. */
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
