// AlertPolicy state cost and speed against the obvious baseline (one object per session in a
// Map), measured in the same run. `npx tsx bench/alert-policy.ts [--quick]` (add
// `node --expose-gc --import tsx` for steadier heap figures); prints one JSON object.
import { AlertPolicy, type RiskObservation } from '../src/sinks/alert-policy.ts';

const quick = process.argv.includes('--quick');
const sessions = quick ? 100_000 : 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** The first thing one would write: an object per session with the same two fields. */
class ObjectPerSession {
  private readonly state = new Map<string, { latched: number; lastAlertAt: number }>();
  observe(o: RiskObservation): boolean {
    const band = o.churnRisk >= 0.75 ? 2 : o.churnRisk >= 0.5 ? 1 : 0;
    let s = this.state.get(o.sessionId);
    if (!s) {
      s = { latched: 0, lastAlertAt: Number.NEGATIVE_INFINITY };
      this.state.set(o.sessionId, s);
    }
    while (s.latched > 0 && o.churnRisk < [0, 0.5, 0.75][s.latched]! - 0.05) s.latched--;
    if (band <= s.latched || o.eventCount < 3 || o.eventTime < s.lastAlertAt + 600_000) return false;
    s.latched = band;
    s.lastAlertAt = o.eventTime;
    return true;
  }
  get size(): number {
    return this.state.size;
  }
}

const ids = Array.from({ length: sessions }, (_, i) => `session-${i.toString(36)}-${(i * 2654435761) >>> 0}`);
const steps = ['page_view', 'checkout', 'support_contact'];
const obs: RiskObservation = {
  sessionId: '',
  userId: null,
  signalId: 'sig',
  lastEventId: 'e',
  eventTime: 0,
  eventCount: 5,
  churnRisk: 0,
  clusterId: 1,
  clusterLabel: 'c',
  modelVersion: 'm',
  steps,
};

// Every session alerts once (the worst case for state: a session that never alerts holds none in
// AlertPolicy), then three more updates per session exercise the hysteresis path.
// Timed apart: the first round raises an alert per session (the policy also builds its id and
// reason there, the baseline does not), the later ones are the common no-alert path.
function drive(observe: (o: RiskObservation) => unknown): { alertRoundSeconds: number; quietRoundsSeconds: number } {
  let t = performance.now();
  let alertRoundSeconds = 0;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < sessions; i++) {
      obs.sessionId = ids[i] as string;
      obs.eventTime = round * 60_000;
      obs.churnRisk = round === 0 ? 0.8 : ((i * 7 + round * 13) % 100) / 100;
      observe(obs);
    }
    if (round === 0) {
      alertRoundSeconds = (performance.now() - t) / 1000;
      t = performance.now();
    }
  }
  return { alertRoundSeconds, quietRoundsSeconds: (performance.now() - t) / 1000 };
}

function measure(make: () => { observe(o: RiskObservation): unknown; size: number }) {
  const before = heap();
  const impl = make();
  const run = drive((o) => impl.observe(o));
  const after = heap();
  return {
    sessionsHeld: impl.size,
    bytesPerSession: Math.round((after - before) / impl.size),
    alertingUpdatesPerSecond: Math.round(sessions / run.alertRoundSeconds),
    quietUpdatesPerSecond: Math.round((3 * sessions) / run.quietRoundsSeconds),
  };
}

const baseline = measure(() => new ObjectPerSession());
const policy = measure(() => new AlertPolicy({ now: () => 0 }));
process.stdout.write(
  `${JSON.stringify({
    bench: 'alert-policy',
    sessions,
    gcExposed: gc !== undefined,
    baseline,
    alertPolicy: policy,
    memoryRatio: Number((policy.bytesPerSession / baseline.bytesPerSession).toFixed(2)),
  })}\n`,
);
