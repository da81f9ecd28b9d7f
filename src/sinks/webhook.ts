// CRM webhook sink: POSTs each alert as signed JSON, retrying what may succeed later and parking
// what will not, with a bounded queue so the consumer pauses instead of buffering without end.
//
// Delivery order: alerts of one session go out one at a time, in enqueue order (a lane per
// session); different sessions go in parallel, at most `concurrency` requests in flight. A lane
// waiting out a backoff holds no request slot, so one slow session does not starve the rest.
//
// Commit rule: an alert's input offsets may be committed once flush() resolved, i.e. the alert
// was accepted (2xx) or handed to park(). A failing park() fails the sink: flush() rejects and
// nothing more is committed, so the replay after a restart re-raises the alert.
import { type Logger } from 'pino';
import { z } from 'zod';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { componentOptions, gotValue, parseOptions } from '../options.ts';
import { version } from '../version.ts';
import { signStandardWebhook, signWebhook, standardWebhookKey, WebhookHeaders } from './webhook-signature.ts';

/** What the sink needs from a payload: the idempotency key and the ordering key. */
export interface WebhookPayload {
  alertId: string;
  sessionId: string;
}

/** `status` is the HTTP code, or "timeout" / "error" when no response came. */
export interface WebhookMetrics {
  request(status: string, seconds: number): void;
  parked(): void;
  /** Alerts held now (queued, in flight, backing off or being parked), after each change. */
  held?(count: number): void;
}

export interface WebhookSinkOptions<T extends WebhookPayload> {
  url: string;
  /** HMAC-SHA256 secret shared with the receiver: `whsec_<base64>` (Standard Webhooks) or any string. */
  secret: string;
  /** Takes an alert that could not be delivered (e.g. produces it to a parking topic). */
  park: (alert: T, lastError: WebhookDeliveryError) => Promise<void> | void;
  /** Requests in flight at most. */
  concurrency: number;
  /** Alerts held (queued, in flight or waiting to retry) before the sink reports it is full. */
  capacity: number;
  /** whenDrained() resolves once no more than this many alerts are held; default capacity / 2. */
  lowWaterMark?: number;
  /** Attempts per alert, the first included, before it is parked. */
  maxAttempts: number;
  /** Per request, connect to last body byte. */
  timeoutMs: number;
  /** Backoff before retry n is a random delay in [0, min(max, base · 2^(n−1))] ("full jitter"). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A longer Retry-After is cut to this, so a receiver cannot stall a session indefinitely. */
  maxRetryAfterMs: number;
  /** Extra headers (e.g. a receiver's API key). */
  headers?: Record<string, string>;
  metrics?: WebhookMetrics;
  onDelivered?: (alert: T, attempts: number) => void;
  /** Called when the sink becomes full (true) and when it drained back to the low-water mark (false). */
  onBackpressure?: (full: boolean) => void;
  log?: Logger;
  random?: () => number;
  /** Wall clock (ms) for the signed timestamp and HTTP-date Retry-After. */
  now?: () => number;
}

export const webhookSinkDefaults = {
  concurrency: 8,
  capacity: 1000,
  maxAttempts: 8,
  timeoutMs: 10_000,
  backoffBaseMs: 500,
  backoffMaxMs: 60_000,
  maxRetryAfterMs: 5 * 60_000,
} satisfies Partial<WebhookSinkOptions<WebhookPayload>>;

export type WebhookOutcome = 'http' | 'timeout' | 'error';

export class WebhookDeliveryError extends JourneylensError {
  override name = 'WebhookDeliveryError';
  constructor(
    message: string,
    readonly outcome: WebhookOutcome,
    readonly status: number | undefined,
    readonly attempts: number,
    /** Delay the receiver asked for (Retry-After), ms. */
    readonly retryAfterMs: number | undefined,
    canRetry: boolean,
    cause?: unknown,
  ) {
    super(ErrorCodes.WEBHOOK_DELIVERY, message, { canRetry, cause });
  }
}

interface Entry<T> {
  alert: T;
  body: string;
  attempts: number;
}

interface Lane<T> {
  key: string;
  items: Entry<T>[];
  /** idle: nothing held; ready: waiting for a request slot; busy: head in flight, backing off or being parked. */
  state: 'idle' | 'ready' | 'busy';
}

interface Waiter {
  /** flush(): every entry enqueued before this sequence number settled. whenDrained(): unused. */
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

type Attempt = { ok: true } | { ok: false; error: WebhookDeliveryError };

export class WebhookSink<T extends WebhookPayload> {
  private readonly opts: Required<Omit<WebhookSinkOptions<T>, 'headers' | 'metrics' | 'onDelivered' | 'onBackpressure' | 'log' | 'lowWaterMark'>> &
    Pick<WebhookSinkOptions<T>, 'metrics' | 'onDelivered' | 'onBackpressure' | 'log'>;
  private readonly lowWaterMark: number;
  private readonly target: string;
  private readonly headers: Record<string, string>;
  private readonly standardKey: Buffer;
  private readonly lanes = new Map<string, Lane<T>>();
  private ready: Lane<T>[] = [];
  /** Held entries → sequence number; a Map iterates in insertion order, so the first is the oldest. */
  private readonly held = new Map<Entry<T>, number>();
  private seq = 0;
  private inFlight = 0;
  private full = false;
  private closed = false;
  private failure: Error | undefined;
  private flushWaiters: Waiter[] = [];
  private drainWaiters: Waiter[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();

  constructor(options: Partial<WebhookSinkOptions<T>> & Pick<WebhookSinkOptions<T>, 'url' | 'secret' | 'park'>) {
    const o = { ...webhookSinkDefaults, random: Math.random, now: Date.now, ...options };
    this.target = validate(o);
    this.standardKey = standardWebhookKey(o.secret);
    this.opts = o;
    this.lowWaterMark = o.lowWaterMark ?? Math.floor(o.capacity / 2);
    this.headers = { 'user-agent': `journeylens/${version}`, ...lowerKeys(o.headers ?? {}), 'content-type': 'application/json' };
  }

  /** Alerts held: queued, in flight, backing off or being parked. */
  get size(): number {
    return this.held.size;
  }

  /** True when the sink holds `capacity` alerts: pause the input and await whenDrained(). */
  isFull(): boolean {
    return this.held.size >= this.opts.capacity;
  }

  /** Takes the alert unless the sink is full; false means "not taken, pause and retry later". */
  offer(alert: T): boolean {
    if (this.isFull()) {
      this.assertOpen();
      return false;
    }
    this.enqueue(alert);
    return true;
  }

  /**
   * Always takes the alert (it was computed from records already consumed) and returns false once
   * the sink is full, like stream.write(): the caller pauses its input until whenDrained().
   */
  enqueue(alert: T): boolean {
    this.assertOpen();
    const entry: Entry<T> = { alert, body: JSON.stringify(alert), attempts: 0 };
    this.held.set(entry, this.seq++);
    this.opts.metrics?.held?.(this.held.size);
    let lane = this.lanes.get(alert.sessionId);
    if (!lane) {
      lane = { key: alert.sessionId, items: [], state: 'idle' };
      this.lanes.set(lane.key, lane);
    }
    lane.items.push(entry);
    if (lane.state === 'idle') this.makeReady(lane);
    if (!this.full && this.isFull()) {
      this.full = true;
      this.opts.onBackpressure?.(true);
    }
    this.pump();
    return !this.isFull();
  }

  /** Resolves once no more than the low-water mark of alerts is held. */
  whenDrained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.held.size <= this.lowWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ upTo: 0, resolve, reject }));
  }

  /** Resolves once every alert enqueued before the call was delivered or parked. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const upTo = this.seq;
    if (this.oldestHeld() >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ upTo, resolve, reject }));
  }

  /**
   * Stops at once: aborts requests in flight and drops what is held (its offsets were not
   * committed, so a restart replays it). Call flush() first for a graceful stop.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
    const dropped = this.held.size;
    this.held.clear();
    this.opts.metrics?.held?.(0);
    this.lanes.clear();
    this.ready = [];
    const err = new JourneylensError(ErrorCodes.WEBHOOK_DELIVERY, `webhook sink closed with ${dropped} alert(s) undelivered; they are replayed from the last commit.`);
    for (const w of [...this.flushWaiters, ...this.drainWaiters]) w.reject(err);
    this.flushWaiters = [];
    this.drainWaiters = [];
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new JourneylensError(ErrorCodes.INTERNAL, 'webhook sink: enqueue() after close().');
  }

  private makeReady(lane: Lane<T>): void {
    lane.state = 'ready';
    this.ready.push(lane);
  }

  private pump(): void {
    while (!this.closed && !this.failure && this.inFlight < this.opts.concurrency && this.ready.length > 0) {
      const lane = this.ready.shift() as Lane<T>;
      lane.state = 'busy';
      this.inFlight++;
      // attempt() handles every delivery failure itself; what reaches here is a bug or a throwing
      // callback, and a silently stuck lane would stall the commits, so the sink fails loudly.
      this.attempt(lane).catch((err: unknown) => {
        if (!this.closed) this.fail(new JourneylensError(ErrorCodes.INTERNAL, `webhook sink: ${(err as Error).message}`, { cause: err }));
      });
    }
  }

  private async attempt(lane: Lane<T>): Promise<void> {
    const entry = lane.items[0] as Entry<T>;
    entry.attempts++;
    let result: Attempt;
    try {
      result = await this.post(entry);
    } finally {
      this.inFlight--;
    }
    if (this.closed) return;
    if (result.ok) {
      this.settle(lane, entry);
      this.opts.onDelivered?.(entry.alert, entry.attempts);
      return;
    }
    const error = result.error;
    if (error.canRetry && entry.attempts < this.opts.maxAttempts) {
      const delay = this.retryDelay(error, entry.attempts);
      this.opts.log?.debug({ alertId: entry.alert.alertId, attempt: entry.attempts, delayMs: Math.round(delay), err: error.message }, 'webhook delivery failed; retrying');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.makeReady(lane);
        this.pump();
      }, delay);
      this.timers.add(timer);
      this.pump();
      return;
    }
    this.pump();
    await this.parkEntry(lane, entry, error);
  }

  private async parkEntry(lane: Lane<T>, entry: Entry<T>, error: WebhookDeliveryError): Promise<void> {
    this.opts.log?.warn({ alertId: entry.alert.alertId, attempts: entry.attempts, status: error.status, err: error.message }, 'webhook delivery gave up; parking the alert');
    try {
      await this.opts.park(entry.alert, error);
    } catch (err) {
      if (!this.closed) this.fail(new JourneylensError(ErrorCodes.WEBHOOK_DELIVERY, `webhook sink: parking alert ${entry.alert.alertId} failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    if (this.closed) return;
    this.opts.metrics?.parked();
    this.settle(lane, entry);
  }

  private settle(lane: Lane<T>, entry: Entry<T>): void {
    lane.items.shift();
    this.held.delete(entry);
    this.opts.metrics?.held?.(this.held.size);
    if (lane.items.length > 0) this.makeReady(lane);
    else {
      lane.state = 'idle';
      this.lanes.delete(lane.key);
    }
    if (this.full && this.held.size <= this.lowWaterMark) {
      this.full = false;
      this.opts.onBackpressure?.(false);
    }
    if (this.held.size <= this.lowWaterMark && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w.resolve();
    }
    if (this.flushWaiters.length > 0) {
      const oldest = this.oldestHeld();
      this.flushWaiters = this.flushWaiters.filter((w) => {
        if (oldest < w.upTo) return true;
        w.resolve();
        return false;
      });
    }
    this.pump();
  }

  private oldestHeld(): number {
    for (const seq of this.held.values()) return seq;
    return Number.POSITIVE_INFINITY;
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of [...this.flushWaiters, ...this.drainWaiters]) w.reject(err);
    this.flushWaiters = [];
    this.drainWaiters = [];
  }

  private retryDelay(error: WebhookDeliveryError, attempts: number): number {
    if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, this.opts.maxRetryAfterMs);
    const cap = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (attempts - 1));
    return this.opts.random() * cap;
  }

  private async post(entry: Entry<T>): Promise<Attempt> {
    const timestamp = Math.floor(this.opts.now() / 1000);
    const id = entry.alert.alertId;
    const headers = {
      ...this.headers,
      [WebhookHeaders.id]: id,
      [WebhookHeaders.standardTimestamp]: String(timestamp),
      [WebhookHeaders.standardSignature]: signStandardWebhook(this.standardKey, id, timestamp, entry.body),
      [WebhookHeaders.idempotencyKey]: id,
      [WebhookHeaders.timestamp]: String(timestamp),
      [WebhookHeaders.signature]: signWebhook(this.opts.secret, timestamp, entry.body),
      [WebhookHeaders.attempt]: String(entry.attempts),
    };
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.opts.timeoutMs);
    this.aborts.add(abort);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const n = entry.attempts;
    try {
      // Redirects are not followed: a redirected POST silently turns into a GET.
      const res = await fetch(this.opts.url, { method: 'POST', headers, body: entry.body, signal: abort.signal, redirect: 'manual' });
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel();
        this.opts.metrics?.request(String(res.status), seconds());
        return { ok: true };
      }
      const snippet = await readSnippet(res, 300);
      this.opts.metrics?.request(String(res.status), seconds());
      const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), this.opts.now()) : undefined;
      // 408 is the receiver's own timeout, retried like ours; any other 4xx will fail the same way again.
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      const text = `webhook POST ${this.target} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
      return { ok: false, error: new WebhookDeliveryError(text, 'http', res.status, n, retryAfterMs, retry) };
    } catch (err) {
      if (this.closed) return { ok: false, error: new WebhookDeliveryError(`webhook POST ${this.target} aborted: the sink was closed`, 'error', undefined, n, undefined, false, err) };
      if (timedOut) {
        this.opts.metrics?.request('timeout', seconds());
        return { ok: false, error: new WebhookDeliveryError(`webhook POST ${this.target} timed out after ${this.opts.timeoutMs} ms`, 'timeout', undefined, n, undefined, true, err) };
      }
      this.opts.metrics?.request('error', seconds());
      return { ok: false, error: new WebhookDeliveryError(`webhook POST ${this.target} failed: ${describeFetchError(err)}`, 'error', undefined, n, undefined, true, err) };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

async function readSnippet(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch {
    // The status already says what happened; a body cut short (or timed out) only loses detail.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** undici hides the socket error (ECONNREFUSED, ENOTFOUND…) in `cause`. */
function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  if (e.cause?.message) return e.cause.code && !e.cause.message.includes(e.cause.code) ? `${e.cause.code} ${e.cause.message}` : e.cause.message;
  return e.message ?? String(err);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

const atLeast = (min: number) => {
  const rule = gotValue(`must be an integer ≥ ${min}`, '.');
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule });
};

/** The options' rules; the url parses to what may be logged (no credentials, no query). */
const webhookOptionsSchema = z
  .object({
    url: z.unknown().optional().transform((raw, ctx) => {
      let u: URL;
      try {
        u = new URL(String(raw));
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be an absolute http(s) URL, got "${String(raw)}".` });
        return z.NEVER;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        ctx.addIssue({ code: 'custom', message: `must use http or https, got "${u.protocol}".` });
        return z.NEVER;
      }
      return `${u.origin}${u.pathname}`;
    }),
    secret: z.unknown().optional().refine((v) => Boolean(v), { error: 'must not be empty; set the HMAC key shared with the receiver.' }),
    concurrency: atLeast(1),
    capacity: atLeast(1),
    maxAttempts: atLeast(1),
    timeoutMs: atLeast(1),
    backoffBaseMs: atLeast(0),
    backoffMaxMs: atLeast(0),
    maxRetryAfterMs: atLeast(0),
    lowWaterMark: z.unknown().optional(),
    park: z.unknown().optional().refine((v) => typeof v === 'function', { error: 'must be a function that takes undeliverable alerts.' }),
  })
  .superRefine((o, ctx) => {
    const lw = o.lowWaterMark;
    if (lw !== undefined && !(Number.isInteger(lw) && (lw as number) >= 0 && (lw as number) < o.capacity)) {
      ctx.addIssue({ code: 'custom', path: ['lowWaterMark'], message: `must be an integer from 0 to capacity − 1 (${o.capacity - 1}), got ${String(lw)}.` });
    }
  });

/** Validates the options; returns the URL as it may be logged (no credentials, no query). */
function validate<T extends WebhookPayload>(o: WebhookSinkOptions<T> & typeof webhookSinkDefaults): string {
  return parseOptions(webhookOptionsSchema, o, componentOptions('webhook')).url;
}
