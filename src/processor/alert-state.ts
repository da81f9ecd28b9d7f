// The alert policy's durable state: a compacted Kafka topic (default `<alerts-topic>.state`) that
// lets alerts survive a crash (docs/reliability.md, "Alerts across crashes").
//
// Two kinds of record, both keyed so compaction keeps only the latest:
// - `s:<sessionId>` → the session's policy state (latched band, last alert time, alerts raised per
//   band) and the position of the update that last changed it. Produced with the tick's outputs,
//   so it is in the topic exactly when the alerts it accounts for are (atomically with them and
//   the offsets in exactly-once mode).
// - `d:<alertId>` → the alert was accepted by the webhook (or parked). Produced as soon as the
//   receiver answered 2xx, before the tick's offsets may be committed.
// Both are tombstoned once the session's final update was committed, so the topic holds only
// open sessions that alerted, and reading it at start-up is short. A crash between a final and
// its tombstone orphans them: records older than the retention (--alert-state-retention-hours) are
// dropped when the topic is read, and the broker deletes them too (cleanup.policy compact,delete).
import { randomBytes } from 'node:crypto';
import { type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { type AlertSessionState } from '../sinks/alert-policy.ts';

/** Where an observation stands in its session's order: its newest event's offset, its event time, and final after the rest. */
export type UpdatePosition = readonly [offset: bigint, asOf: number, final: 0 | 1];

export interface StoredSession extends AlertSessionState {
  at: UpdatePosition;
}

export interface AlertStateSnapshot {
  sessions: Map<string, StoredSession>;
  /** alertId → sessionId of alerts the webhook already took. */
  delivered: Map<string, string>;
  /** Keys whose latest record is older than the retention: left out above, to be tombstoned. */
  expired: string[];
}

export const alertStateTopicFor = (alertsTopic: string): string => `${alertsTopic}.state`;

export const sessionKey = (sessionId: string): string => `s:${sessionId}`;
export const deliveredKey = (alertId: string): string => `d:${alertId}`;

/** < 0 when a is before b. */
export function comparePositions(a: UpdatePosition, b: UpdatePosition): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] - b[2];
}

export function encodeSession(s: StoredSession): string {
  return JSON.stringify({ v: 1, latched: s.latched, lastAlertAt: s.lastAlertAt, raised: s.raised, at: [s.at[0].toString(), s.at[1], s.at[2]] });
}

export function decodeSession(value: string): StoredSession | undefined {
  try {
    const o = JSON.parse(value) as { v?: number; latched?: unknown; lastAlertAt?: unknown; raised?: unknown; at?: unknown };
    if (o.v !== 1 || typeof o.latched !== 'number' || typeof o.lastAlertAt !== 'number' || !Array.isArray(o.raised) || !Array.isArray(o.at)) return undefined;
    const [m, h] = o.raised as unknown[];
    const [off, asOf, final] = o.at as unknown[];
    if (typeof m !== 'number' || typeof h !== 'number' || typeof off !== 'string' || typeof asOf !== 'number') return undefined;
    return { latched: o.latched, lastAlertAt: o.lastAlertAt, raised: [m, h], at: [BigInt(off), asOf, final === 1 ? 1 : 0] };
  } catch {
    return undefined;
  }
}

/**
 * Creates the state topic when it is missing (an internal topic, like a Kafka Streams changelog:
 * it is not one more topic for the operator to create). Compacted, so each key keeps its latest
 * record (tombstones go after delete.retention.ms), and with `delete` too, so a segment older
 * than `retentionMs` goes whatever it holds: state orphaned by a crash does not stay for ever.
 * An existing topic's configuration is left as it is (readAlertState expires old records anyway).
 */
export async function ensureAlertStateTopic(kafka: Kafka, topic: string, options: { partitions?: number; replication?: number; retentionMs: number }): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return false;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? -1,
          replicationFactor: options.replication ?? -1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact,delete' },
            { name: 'retention.ms', value: String(options.retentionMs) },
          ],
        },
      ],
    });
    return true;
  } catch (err) {
    // another instance of the group created it at the same moment
    if (/already exists/i.test((err as Error).message)) return false;
    throw err;
  } finally {
    await admin.disconnect();
  }
}

/**
 * A partition whose last records are transaction markers never yields a batch that reaches its end
 * offset: once every partition gave a batch and nothing came for this long, the read is over.
 */
const IDLE_END_MS = 2000;
/** The same for a partition that never gave a batch at all (only markers left), from the join. */
const SILENT_END_MS = 20_000;

/**
 * Reads the whole state topic (latest record per key; tombstones remove). A throwaway consumer
 * group reads from the beginning up to the end offsets taken before it started, then leaves and
 * is deleted. With `retentionMs`, a key whose latest record was written (its Kafka timestamp)
 * longer ago than that is left out and listed in `expired`: topics made before the broker-side
 * retention, and records the broker has not deleted yet, expire all the same.
 */
export async function readAlertState(kafka: Kafka, topic: string, group: string, log: Logger, options: { retentionMs?: number; now?: number } = {}): Promise<AlertStateSnapshot> {
  const snapshot: AlertStateSnapshot = { sessions: new Map(), delivered: new Map(), expired: [] };
  const cutoff = options.retentionMs === undefined ? -Infinity : (options.now ?? Date.now()) - options.retentionMs;
  const expired = new Set<string>();
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${group}.alert-state.${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  try {
    const ends = new Map<number, bigint>();
    for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    if (ends.size === 0) return snapshot;
    let bad = 0;
    await new Promise<void>((resolve, reject) => {
      let joinedAt = 0;
      let lastAt = Date.now();
      const heard = new Set<number>();
      const partitions = [...ends.keys()];
      const idle = setInterval(() => {
        if (joinedAt === 0) return;
        const quiet = Date.now() - lastAt;
        // under load the first fetch of a partition can take seconds: an early end would lose state
        if ((partitions.every((p) => heard.has(p)) && quiet > IDLE_END_MS) || (quiet > SILENT_END_MS && Date.now() - joinedAt > SILENT_END_MS)) finish();
      }, 250);
      const finish = (): void => {
        clearInterval(idle);
        resolve();
      };
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joinedAt = Date.now();
        lastAt = joinedAt;
      });
      consumer.on(consumer.events.CRASH, (e) => {
        clearInterval(idle);
        reject(e.payload.error);
      });
      void (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            lastAt = Date.now();
            heard.add(batch.partition);
            for (const m of batch.messages) {
              const key = m.key?.toString('utf8') ?? '';
              const id = key.slice(2);
              // the latest record of a key decides: an old one expires it, a newer one revives it
              if (m.value !== null && Number(m.timestamp) < cutoff) {
                if (key.startsWith('s:')) snapshot.sessions.delete(id);
                else if (key.startsWith('d:')) snapshot.delivered.delete(id);
                else bad++;
                if (key.startsWith('s:') || key.startsWith('d:')) expired.add(key);
                continue;
              }
              expired.delete(key);
              if (key.startsWith('s:')) {
                if (m.value === null) snapshot.sessions.delete(id);
                else {
                  const s = decodeSession(m.value.toString('utf8'));
                  if (s) snapshot.sessions.set(id, s);
                  else bad++;
                }
              } else if (key.startsWith('d:')) {
                if (m.value === null) snapshot.delivered.delete(id);
                else snapshot.delivered.set(id, m.value.toString('utf8'));
              } else bad++;
            }
            const end = ends.get(batch.partition);
            if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) ends.delete(batch.partition);
            if (ends.size === 0) finish();
          },
        });
      })().catch((err: unknown) => {
        clearInterval(idle);
        reject(err as Error);
      });
    });
    if (bad > 0) log.warn({ topic, records: bad }, 'alert state: skipped records that are not alert state (counted once here)');
    snapshot.expired = [...expired];
    return snapshot;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
