// Alerts: the hysteresis policy per session, the alerts topic, the CRM webhook if configured, and
// the policy's durable state (alert-state.ts), so that after a crash at any point each alert is
// raised once, under the id it had, and the webhook takes it once (docs/reliability.md).
//
// The rules that make it so:
// - Updates re-read below the replay mark (`replay`) were published before: their state changes
//   are in the state topic already, so they are not observed again (re-observing them would
//   replay a different sampling of the session: updates are coalesced per tick).
// - A session's state record carries the position of the update that last changed it; an update
//   re-read above the mark but at or before that position (outputs produced, offsets not yet
//   committed when the process died) was applied already and is skipped.
// - The webhook skips alerts the state topic says it already took (`d:<alertId>`, written on the
//   receiver's 2xx, before the tick's offsets can be committed).
// - Closed sessions are tombstoned in the delivery after their final one, once its commit landed.
import { type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { type Registry } from 'prom-client';
import { type RunConfig } from '../config.ts';
import { type ChurnAlert, RISK_BANDS, type RiskBand } from '../contracts/records.ts';
import { type RiskThresholds } from '../contracts/risk.ts';
import { quietMs, type SessionView } from '../journey/session-view.ts';
import { type Metrics } from '../metrics.ts';
import { AlertPolicy, alertIdFor, type AlertSessionState } from '../sinks/alert-policy.ts';
import { type OutputSink, type OutRecord } from '../sinks/kafka-sink.ts';
import { WebhookSink } from '../sinks/webhook.ts';
import { webhookMetrics } from '../sinks/webhook-metrics.ts';
import { comparePositions, deliveredKey, encodeSession, readAlertState, sessionKey, type UpdatePosition } from './alert-state.ts';
import { type TickHook } from './processor.ts';

export interface AlertsHook extends TickHook {
  /** The consumer joined the group (start-up or rebalance): reads the state topic before the next tick. */
  reload(): void;
}

export interface AlertsHookOptions {
  config: RunConfig;
  kafka: Kafka;
  /** The processor's sink: state records go with the tick's outputs (one transaction in exactly-once mode). */
  sink: OutputSink;
  /** A sink outside the transactions, for the webhook's delivered marks when `sink` is transactional. */
  plainSink: () => OutputSink;
  stateTopic: string;
  metrics: Metrics;
  registry: Registry;
  log: Logger;
  thresholds: () => RiskThresholds;
  /** The alerts topic's encoding (--output-format, sinks/output-format.ts). */
  encode: (a: ChurnAlert) => Buffer | string;
  onAlert?: (a: ChurnAlert) => void;
}

const positionOf = (view: SessionView, final: boolean): UpdatePosition => [view.lastOffset, view.asOf, final ? 1 : 0];

const sameState = (a: AlertSessionState | undefined, b: AlertSessionState | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.latched === b.latched && a.lastAlertAt === b.lastAlertAt && a.raised[0] === b.raised[0] && a.raised[1] === b.raised[1]);

/** Every alert id a session's state accounts for. */
function alertIdsOf(sessionId: string, s: AlertSessionState): string[] {
  const ids: string[] = [];
  for (let b = 0; b < 2; b++) for (let n = 0; n < (s.raised[b] as number); n++) ids.push(alertIdFor(sessionId, RISK_BANDS[b + 1] as RiskBand, n));
  return ids;
}

export function alertsHook(o: AlertsHookOptions): AlertsHook {
  const { config, log, metrics } = o;
  const first = o.thresholds();
  const policy = new AlertPolicy({ mediumThreshold: first.medium, highThreshold: first.high });
  const topic = config.alertsTopic as string;
  const stateTopic = o.stateTopic;
  const encode = o.encode;
  /** Position of the update that last changed each session's state (sessions holding state). */
  const at = new Map<string, UpdatePosition>();
  /** Alerts the webhook took (this run or, from the state topic, before a restart) → their session. */
  const delivered = new Map<string, string>();
  /**
   * Sessions closed in the ticks of the delivery under way, then (from its flush) in a delivery
   * whose commit precedes the next one's: tombstoned by the next delivery. One delivery can hold
   * several ticks, so a tick's onScored is not the moment to tombstone the previous tick's.
   */
  let closing: { sessionId: string; alertIds: string[] }[] = [];
  let released: { sessionId: string; alertIds: string[] }[] = [];
  /** Keys the last read found older than the retention: tombstoned with the next tick's outputs. */
  let expired: string[] = [];
  let loading: Promise<void> = Promise.resolve();
  let stateSink: OutputSink | undefined;
  const marks = new Set<Promise<void>>();
  const markFailures: Error[] = [];
  const stats = { restoredSessions: 0, skippedDeliveries: 0 };

  /**
   * Records that the webhook took an alert; flush() waits for it before the commit. Marks taken
   * while one produce is under way go out together in the next one: one round trip for a burst
   * of 2xx answers, since a crash between an answer and its mark's ack posts that alert again.
   */
  let queuedMarks: ChurnAlert[] = [];
  let markChain: Promise<void> = Promise.resolve();
  const markDelivered = (alert: ChurnAlert): void => {
    delivered.set(alert.alertId, alert.sessionId);
    queuedMarks.push(alert);
    if (queuedMarks.length > 1) return;
    // exactly-once mode: the processor's producer only sends inside its transactions
    stateSink ??= o.sink.transactional ? o.plainSink() : o.sink;
    const s = stateSink;
    const p = (markChain = markChain.then(async () => {
      const batch = queuedMarks;
      queuedMarks = [];
      if (s !== o.sink) await s.connect();
      await s.send(batch.map((a) => ({ topic: stateTopic, key: deliveredKey(a.alertId), value: a.sessionId })));
    })).catch((err: unknown) => {
      markFailures.push(err as Error);
    });
    marks.add(p);
    void p.finally(() => marks.delete(p));
  };

  const webhook = config.webhookUrl
    ? new WebhookSink<ChurnAlert>({
        url: config.webhookUrl,
        secret: config.webhookSecret ?? '',
        timeoutMs: config.webhookTimeoutMs,
        maxAttempts: config.webhookMaxAttempts,
        concurrency: config.webhookConcurrency,
        metrics: webhookMetrics(o.registry),
        log,
        onDelivered: (alert) => markDelivered(alert),
        park: async (alert, err) => {
          await o.sink.send([{ topic: config.parkedTopic ?? `${topic}.parked`, key: alert.sessionId, value: JSON.stringify(alert), headers: { 'x-journeylens-error-message': err.message } }]);
          markDelivered(alert);
        },
      })
    : undefined;

  const load = async (): Promise<void> => {
    const snap = await readAlertState(o.kafka, stateTopic, config.group, log, { retentionMs: config.alertStateRetentionHours * 3_600_000 });
    let restored = 0;
    for (const [sessionId, s] of snap.sessions) {
      const mine = at.get(sessionId);
      // this instance's own state is newer unless another owner of the partition moved it on
      if (mine !== undefined && comparePositions(s.at, mine) <= 0) continue;
      policy.restore(sessionId, s);
      at.set(sessionId, s.at);
      restored++;
    }
    for (const [alertId, sessionId] of snap.delivered) delivered.set(alertId, sessionId);
    stats.restoredSessions += restored;
    // state this process holds (a session still open, a delivery of this run) stays
    expired.push(...snap.expired.filter((k) => !(k.startsWith('s:') ? at.has(k.slice(2)) : delivered.has(k.slice(2)))));
    if (snap.expired.length > 0) log.info({ topic: stateTopic, records: snap.expired.length, retentionHours: config.alertStateRetentionHours }, 'alert state: dropped records older than --alert-state-retention-hours (left by a crash between a final and its tombstone)');
    if (snap.sessions.size > 0 || snap.delivered.size > 0) log.info({ topic: stateTopic, sessions: snap.sessions.size, restored, delivered: snap.delivered.size }, 'alert state read: alerts raised before the restart are not raised again');
  };

  return {
    reload() {
      const previous = loading;
      loading = previous.catch(() => undefined).then(load);
    },
    async onScored(items) {
      await loading;
      policy.setThresholds(o.thresholds());
      const out: OutRecord[] = [];
      // the delivery that carried these finals was committed before this one started
      for (const r of released) {
        out.push({ topic: stateTopic, key: sessionKey(r.sessionId), value: null });
        for (const id of r.alertIds) {
          if (delivered.delete(id)) out.push({ topic: stateTopic, key: deliveredKey(id), value: null });
        }
      }
      released = [];
      for (const key of expired) out.push({ topic: stateTopic, key, value: null });
      expired = [];
      for (const { view, signal, final, replay } of items) {
        const sessionId = signal.sessionId;
        const position = positionOf(view, final);
        const last = at.get(sessionId);
        // published before the restart (replay), or applied before it and produced: see the header
        const applied = replay || (last !== undefined && comparePositions(position, last) <= 0);
        const before = applied ? undefined : policy.stateOf(sessionId);
        const alert = applied
          ? undefined
          : policy.observe({
              sessionId,
              userId: signal.userId,
              signalId: signal.signalId,
              lastEventId: view.lastEventId,
              eventTime: view.asOf,
              quietMs: quietMs(view),
              final,
              eventCount: signal.eventCount,
              churnRisk: signal.churnRisk,
              clusterId: signal.clusterId,
              clusterLabel: signal.clusterLabel,
              modelVersion: signal.modelVersion,
              steps: () => view.recentTypes(5),
            });
        if (alert) {
          metrics.alertsTotal.inc({ band: alert.riskBand });
          out.push({ topic, key: alert.userId ?? alert.sessionId, value: encode(alert) });
          if (delivered.has(alert.alertId)) {
            stats.skippedDeliveries++;
            log.info({ alertId: alert.alertId }, 'alert re-raised after a restart was delivered to the webhook before it; not posted again');
          } else webhook?.enqueue(alert);
          o.onAlert?.(alert);
        }
        const after = policy.stateOf(sessionId);
        if (!applied && !sameState(before, after) && after) {
          at.set(sessionId, position);
          out.push({ topic: stateTopic, key: sessionKey(sessionId), value: encodeSession({ ...after, at: position }) });
        }
        if (final) {
          const state = policy.stateOf(sessionId);
          if (state || at.has(sessionId)) closing.push({ sessionId, alertIds: state ? alertIdsOf(sessionId, state) : [] });
          policy.release(sessionId);
          at.delete(sessionId);
        }
      }
      return out;
    },
    flush: async () => {
      await webhook?.flush();
      await Promise.all([...marks]);
      const failed = markFailures.shift();
      if (failed) throw failed;
      // the commit follows this flush; the next delivery starts after it landed
      released.push(...closing);
      closing = [];
    },
    close: async () => {
      await webhook?.flush().catch(() => undefined);
      await Promise.all([...marks]);
      webhook?.close();
      if (stateSink && stateSink !== o.sink) await stateSink.disconnect().catch(() => undefined);
      if (stats.restoredSessions > 0 || stats.skippedDeliveries > 0) log.info(stats, 'alert state: restored sessions and deliveries not repeated');
    },
  };
}
