// Delivery retries: a tick's outputs and commit are retried while the broker is unreachable
// (the consumer stays paused meanwhile, so nothing piles up), and given up on when the broker
// says the error is final.
import { type Logger } from 'pino';

/**
 * A broker that is down or a leader that moved is worth waiting for; a protocol error the broker
 * says is final (a record too large, not authorized) is not. kafkajs wraps the broker's error
 * in "retries exceeded" errors, @platformatic/kafka gathers the errors of its attempts and
 * partitions in `errors`: the causes and those lists are searched for it.
 */
export function isRetriable(err: unknown): boolean {
  const pending: unknown[] = [err];
  for (let seen = 0; pending.length > 0 && seen < 100; seen++) {
    const k = pending.shift() as { name?: string; code?: string; retriable?: boolean; canRetry?: boolean; cause?: unknown; originalError?: unknown; errors?: unknown };
    if (!k || typeof k !== 'object') continue;
    if (k.name === 'KafkaJSProtocolError' && k.retriable === false) return false;
    if (k.code === 'PLT_KFK_PROTOCOL' && k.canRetry === false) return false;
    if (k.cause) pending.push(k.cause);
    if (k.originalError) pending.push(k.originalError);
    if (Array.isArray(k.errors)) pending.push(...k.errors);
  }
  return true;
}

/**
 * Offset commits the group coordinator refuses because the group moved on: it is rebalancing
 * (REBALANCE_IN_PROGRESS), or formed a new generation (ILLEGAL_GENERATION), or dropped this member
 * (UNKNOWN_MEMBER_ID). kafkajs calls them final, yet they are not the tick's failure: the member
 * rejoins, and every partition it is then assigned is read again from its committed offset.
 */
const GROUP_MOVED_ON = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
export function isGroupMovedOn(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 10; depth++) {
    const k = e as { type?: string; cause?: unknown; originalError?: unknown };
    if (k.type !== undefined && GROUP_MOVED_ON.has(k.type)) return true;
    e = k.cause ?? k.originalError;
  }
  return false;
}

/** Runs `attempt` until it succeeds: backoff 400 ms doubling to 10 s, at most 60 attempts, only while the error is retriable. */
export async function withDeliveryRetries(attempt: () => Promise<void>, log: Logger): Promise<void> {
  for (let n = 0; ; ) {
    try {
      await attempt();
      return;
    } catch (err) {
      n++;
      const wait = Math.min(10_000, 200 * 2 ** Math.min(n, 6));
      const retriable = isRetriable(err);
      log.warn({ err, attempt: n, retryInMs: wait, retriable }, 'could not deliver a tick’s outputs; retrying (the consumer stays paused meanwhile)');
      if (!retriable || n >= 60) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
