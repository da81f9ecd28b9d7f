// The console beside the processor shows what was published: a scored tick's views and alerts
// wait until their signal is acknowledged; the last event's raw type and page come from the
// events the processor took in.
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type ChurnAlert, type ClickEvent, type JourneySignal } from '../../../src/contracts/records.ts';
import { parseRiskSetting, RISK_SETTING_DEFAULT } from '../../../src/contracts/risk.ts';
import { defaultImageSpec, defaultSessionizationSpec } from '../../../src/journey/image-spec.ts';
import { type SessionView } from '../../../src/journey/session-view.ts';
import { createLogger } from '../../../src/log.ts';
import { SessionStore } from '../../../src/streams/session-store.ts';
import { sessionize } from '../../../src/streams/sessionize.ts';
import { feedFromProcessor } from '../../../src/console/beside.ts';
import { ConsoleState } from '../../../src/console/state.ts';

const log = createLogger({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 1);

function event(sessionId: string, i: number, over: Partial<ClickEvent> = {}): ClickEvent {
  return { eventId: `${sessionId}-e${i}`, sessionId, userId: 'u-1', timestamp: T0 + i * 10_000, type: 'page_view', page: '/', durationMs: 1000, value: null, properties: {}, ...over };
}

/** The views the sessionizer emits for these events (closing them at the end). */
function views(events: ClickEvent[]): SessionView[] {
  const store = new SessionStore(defaultImageSpec, defaultSessionizationSpec);
  const out: SessionView[] = [];
  from(events.map((e, i) => ({ event: e, partition: 0, offset: BigInt(i) })))
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind === 'close') out.push(o);
    });
  return out;
}

function signalFor(view: SessionView, over: Partial<JourneySignal> = {}): JourneySignal {
  return { signalId: `sig-${view.sessionId}`, sessionId: view.sessionId, userId: view.userId, eventCount: view.eventCount, windowStart: view.windowStart, windowEnd: view.windowEnd, clusterId: 1, clusterLabel: 'c', distance: 1, novel: false, churnRisk: 0.8, riskBand: 'high', modelVersion: 'm', emittedAt: Date.now(), final: true, ...over };
}

const alertFor = (s: JourneySignal): ChurnAlert => ({ alertId: `alert-${s.sessionId}`, signalId: s.signalId, sessionId: s.sessionId, userId: s.userId, churnRisk: s.churnRisk, riskBand: 'high', previousBand: 'low', clusterId: 1, clusterLabel: 'c', reason: 'r', eventCount: s.eventCount, modelVersion: 'm', emittedAt: s.emittedAt });

const newState = (): ConsoleState => new ConsoleState({ mode: 'run', risk: parseRiskSetting(RISK_SETTING_DEFAULT), log });

describe('the console fed by the processor in-process', () => {
  it('shows a session, its image, its raw last event and its alert only once the signal is published', async () => {
    const state = newState();
    const feed = feedFromProcessor(state);
    const markup = { type: '<script>alert(1)</script>', page: '<img src=x onerror=alert(2)>' };
    const events = [event('s-1', 0), event('s-1', 1, { type: 'checkout' }), event('s-1', 2, { ...markup, page: `${markup.page}${'p'.repeat(500)}` })];
    for (const e of events) feed.onEvent(e);
    const [view] = views(events);
    const signal = signalFor(view!);
    feed.tickHook.onScored([{ view: view!, signal, replay: false }]);
    feed.onAlert(alertFor(signal));
    await feed.tickHook.flush();
    expect(state.sessionBody('s-1')).toBeUndefined();
    expect(state.feedCount).toBe(0);

    feed.onSignal(signal);
    const body = state.sessionBody('s-1') as { lastEvent: { type: string; page: string }; image: { rows: number } | null };
    expect(body.lastEvent.type).toBe(markup.type);
    // kept as it arrived, cut to 200 characters
    expect(body.lastEvent.page).toBe(`${markup.page}${'p'.repeat(200 - markup.page.length)}`);
    expect(body.image?.rows).toBe(defaultImageSpec.rows);
    expect(state.sessionImagePng('s-1')!.subarray(1, 4).toString()).toBe('PNG');
    expect(state.backlog(10).map((a) => a.alert.alertId)).toEqual(['alert-s-1']);
  });

  it('finds the last event of a session keyed by user (events without a session id)', async () => {
    const state = newState();
    const feed = feedFromProcessor(state);
    const events = [event('', 0, { userId: 'u-9' }), event('', 1, { userId: 'u-9', type: 'logout', page: '/bye' })];
    for (const e of events) feed.onEvent(e);
    const [view] = views(events);
    expect(view!.sessionId).toBe(`u:u-9:${T0}`);
    const signal = signalFor(view!);
    feed.tickHook.onScored([{ view: view!, signal, replay: false }]);
    await feed.tickHook.flush();
    feed.onSignal(signal);
    expect((state.sessionBody(view!.sessionId) as { lastEvent: unknown }).lastEvent).toEqual({ type: 'logout', page: '/bye', timestamp: T0 + 10_000 });
  });

  it('takes nothing from replayed updates; shows an alert whose update was not published once its delivery is done', async () => {
    const state = newState();
    const feed = feedFromProcessor(state);
    const [a, b, c] = views([event('a', 0), event('b', 0), event('c', 0)]);
    const [sa, sb, sc] = [signalFor(a!), signalFor(b!), signalFor(c!)];
    // one delivery: a replayed, b scored but not published (--emit change) though it alerted, c published
    feed.tickHook.onScored([
      { view: a!, signal: sa, replay: true },
      { view: b!, signal: sb, replay: false },
    ]);
    feed.onAlert(alertFor(sb));
    feed.tickHook.onScored([{ view: c!, signal: sc, replay: false }]);
    await feed.tickHook.flush();
    feed.onSignal(sc);
    expect(state.sessionBody('c')).toBeDefined();
    expect(state.feedCount).toBe(0);
    // the next delivery starts: the previous one was acknowledged
    await feed.tickHook.flush();
    expect(state.backlog(5).map((x) => x.alert.alertId)).toEqual(['alert-b']);
    // nothing of b's view is kept for a signal of it that comes later
    feed.onSignal(sb);
    expect((state.sessionBody('b') as { image: unknown }).image).toBeNull();
    expect(state.sessionBody('a')).toBeUndefined();
  });
});
