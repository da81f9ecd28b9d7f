// The console state's bounds and answers: the feed, the session index, each session's risk
// path and alerts, a user's sessions, the per-minute mix, and the model card.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { type ChurnAlert, type JourneySignal } from '../../../src/contracts/records.ts';
import { parseRiskSetting, RISK_SETTING_DEFAULT } from '../../../src/contracts/risk.ts';
import { defaultImageSpec } from '../../../src/journey/image-spec.ts';
import { createLogger } from '../../../src/log.ts';
import { sha256File } from '../../../src/model/bundle-manifest.ts';
import { defaultBundleDir } from '../../../src/model/runtime.ts';
import { pseudonymizer } from '../../../src/sinks/privacy.ts';
import { CONSOLE_LIMITS, type ConsoleLimits, ConsoleState, type ConsoleChange, USER_SESSIONS } from '../../../src/console/state.ts';

const log = createLogger({ level: 'silent' });
const risk = parseRiskSetting(RISK_SETTING_DEFAULT);
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

function signal(sessionId: string, over: Partial<JourneySignal> = {}): JourneySignal {
  return {
    signalId: `sig-${sessionId}-${over.eventCount ?? 1}-${over.emittedAt ?? T0}`,
    sessionId,
    userId: 'u-1',
    eventCount: 1,
    windowStart: T0 - 60_000,
    windowEnd: T0 - 1_000,
    clusterId: 2,
    clusterLabel: 'add to cart → checkout',
    distance: 1.5,
    novel: false,
    churnRisk: 0.3,
    riskBand: 'low',
    modelVersion: 'm1',
    emittedAt: T0,
    final: false,
    ...over,
  };
}

function alert(n: number, over: Partial<ChurnAlert> = {}): ChurnAlert {
  return {
    alertId: `a-${n}`,
    signalId: `sig-${n}`,
    sessionId: `s-${n % 7}`,
    userId: 'u-1',
    churnRisk: 0.8,
    riskBand: 'high',
    previousBand: 'medium',
    clusterId: 5,
    clusterLabel: 'logout → leave',
    reason: `reason ${n}`,
    eventCount: 5,
    modelVersion: 'm1',
    emittedAt: T0,
    ...over,
  };
}

function state(over: { now?: () => number; bundleDir?: string; limits?: Partial<ConsoleLimits> } = {}): ConsoleState {
  return new ConsoleState({ mode: 'run', risk, log, now: over.now ?? (() => T0), ...(over.bundleDir ? { bundleDir: over.bundleDir } : {}), ...(over.limits ? { limits: over.limits } : {}) });
}

describe('console state: the alert feed', () => {
  it(`keeps the newest ${CONSOLE_LIMITS.feed} alerts and hands a new stream the newest ${CONSOLE_LIMITS.backlog}, oldest first`, () => {
    const s = state();
    for (let i = 1; i <= CONSOLE_LIMITS.feed + 137; i++) s.addAlert(alert(i));
    expect(s.feedCount).toBe(CONSOLE_LIMITS.feed);
    expect(s.stats.alertsDropped).toBe(137);
    const backlog = s.backlog(CONSOLE_LIMITS.backlog);
    expect(backlog).toHaveLength(CONSOLE_LIMITS.backlog);
    expect(backlog[0]!.alert.alertId).toBe(`a-${CONSOLE_LIMITS.feed + 137 - CONSOLE_LIMITS.backlog + 1}`);
    expect(backlog.at(-1)!.alert.alertId).toBe(`a-${CONSOLE_LIMITS.feed + 137}`);
    // the feed carries no signal id
    expect(backlog[0]!.alert).not.toHaveProperty('signalId');
  });

  it('resumes after an alert still in the feed, and says so when it fell out', () => {
    const s = state({ limits: { feed: 10 } });
    for (let i = 1; i <= 25; i++) s.addAlert(alert(i));
    expect(s.alertsAfter(22)!.map((a) => a.alert.alertId)).toEqual(['a-23', 'a-24', 'a-25']);
    expect(s.alertsAfter(25)).toEqual([]);
    // seq 15 was pushed out by the newest 10: the client missed alerts and gets a fresh backlog
    expect(s.alertsAfter(15)).toBeUndefined();
    expect(s.alertsAfter(99)).toBeUndefined();
  });

  it('counts an alert published twice (same deterministic id) once', () => {
    const s = state();
    const seen: ConsoleChange[] = [];
    s.subscribe((c) => seen.push(c));
    s.addAlert(alert(1));
    s.addAlert(alert(1));
    expect(s.feedCount).toBe(1);
    expect(s.stats.duplicateAlerts).toBe(1);
    expect(seen).toHaveLength(1);
    expect(s.mix(1)[0]!.alerts).toBe(1);
  });
});

describe('console state: the session index', () => {
  it(`keeps the ${CONSOLE_LIMITS.sessions} sessions with the newest signals and forgets the oldest`, () => {
    const s = state();
    for (let i = 0; i < CONSOLE_LIMITS.sessions + 50; i++) s.addSignal(signal(`s-${i}`));
    expect(s.sessionCount).toBe(CONSOLE_LIMITS.sessions);
    expect(s.stats.sessionsEvicted).toBe(50);
    expect(s.sessionBody('s-0')).toBeUndefined();
    expect(s.sessionBody('s-49')).toBeUndefined();
    expect(s.sessionBody('s-50')).toBeDefined();
    // a new signal makes a session the newest again: it outlives the ones after it
    s.addSignal(signal('s-50', { eventCount: 2 }));
    s.addSignal(signal('s-new'));
    expect(s.sessionBody('s-50')).toBeDefined();
    expect(s.sessionBody('s-51')).toBeUndefined();
  });

  it(`keeps a session's newest ${CONSOLE_LIMITS.signalsPerSession} signals as its risk path and its newest ${CONSOLE_LIMITS.alertsPerSession} alerts`, () => {
    const s = state();
    for (let i = 1; i <= 100; i++) s.addSignal(signal('s-1', { eventCount: i, churnRisk: i / 100, emittedAt: T0 - (100 - i) * 1000, riskBand: i >= 75 ? 'high' : i >= 50 ? 'medium' : 'low', clusterId: i % 3 === 0 ? -1 : 4 }));
    for (let i = 1; i <= 20; i++) s.addAlert(alert(100 + i, { sessionId: 's-1', reason: `r${i}` }));
    const body = s.sessionBody('s-1') as { signals: { eventCount: number; churnRisk: number; riskBand: string; clusterId: number; final: boolean }[]; alerts: { reason: string }[]; latest: JourneySignal; state: string };
    expect(body.signals).toHaveLength(CONSOLE_LIMITS.signalsPerSession);
    expect(body.signals[0]).toMatchObject({ eventCount: 37, riskBand: 'low', clusterId: 4, final: false });
    expect(body.signals[0]!.churnRisk).toBeCloseTo(0.37);
    expect(body.signals.at(-1)).toMatchObject({ eventCount: 100, riskBand: 'high', clusterId: 4 });
    expect(body.signals[2]).toMatchObject({ eventCount: 39, clusterId: -1 });
    expect(body.alerts).toHaveLength(CONSOLE_LIMITS.alertsPerSession);
    expect(body.alerts[0]!.reason).toBe('r20');
    expect(body.latest.eventCount).toBe(100);
    expect(body.state).toBe('open');
    s.addSignal(signal('s-1', { eventCount: 101, final: true }));
    expect((s.sessionBody('s-1') as { state: string }).state).toBe('closed');
  });

  it(`finds a user's sessions, newest first, at most ${USER_SESSIONS}`, () => {
    const s = state();
    for (let i = 0; i < 30; i++) s.addSignal(signal(`s-${i}`, { userId: 'u-7', emittedAt: T0 - (30 - i) * 1000 }));
    s.addSignal(signal('other', { userId: 'u-8' }));
    const body = s.userBody('u-7') as { sessions: { sessionId: string }[] };
    expect(body.sessions).toHaveLength(USER_SESSIONS);
    expect(body.sessions[0]!.sessionId).toBe('s-29');
    expect(s.userBody('nobody')).toBeUndefined();
  });

  it('with the signals topic pseudonymized, joins an alert (real ids) to its pseudonymous session and finds it by the real id', () => {
    const p = pseudonymizer(Buffer.alloc(32, 7));
    const s = new ConsoleState({ mode: 'ui', risk, log, now: () => T0, pseudonym: p });
    s.addSignal(signal(p('s-3'), { userId: p('u-1'), eventCount: 4, churnRisk: 0.8, riskBand: 'high' }));
    s.addAlert(alert(3, { sessionId: 's-3', userId: 'u-1' }));
    expect(s.sessionCount).toBe(1);
    const body = s.sessionBody('s-3') as { sessionId: string; latest: JourneySignal; alerts: { alertId: string }[] };
    expect(body.sessionId).toBe(p('s-3'));
    expect(body.latest.eventCount).toBe(4);
    expect(body.alerts.map((a) => a.alertId)).toEqual(['a-3']);
    expect(s.sessionBody(p('s-3'))).toEqual(body);
    expect((s.userBody('u-1') as { sessions: { sessionId: string }[] }).sessions.map((x) => x.sessionId)).toEqual([p('s-3')]);
    // without the key the alert stays apart from the session it belongs to
    const apart = state();
    apart.addSignal(signal(p('s-3'), { userId: p('u-1') }));
    apart.addAlert(alert(3, { sessionId: 's-3', userId: 'u-1' }));
    expect(apart.sessionCount).toBe(2);
    expect((apart.sessionBody('s-3') as { latest: JourneySignal | null }).latest).toBeNull();
  });

  it('draws the journey image the processor scored, and says why there is none when it reads topics', () => {
    const s = state();
    const image = new Float32Array(32 * 22).fill(0.5);
    s.addSignal(signal('s-img'), { image: { spec: defaultImageSpec, asOf: T0 - 500, rasterize: () => image }, lastEvent: { type: 'checkout', page: '/cart', timestamp: T0 - 500 } });
    const body = s.sessionBody('s-img') as { image: { url: string; rows: number; cols: number }; imageNote: unknown; lastEvent: unknown };
    expect(body.image).toMatchObject({ rows: 32, cols: 22, url: expect.stringMatching(/^\/api\/sessions\/s-img\/image\.png\?v=/) });
    expect(body.imageNote).toBeNull();
    expect(body.lastEvent).toEqual({ type: 'checkout', page: '/cart', timestamp: T0 - 500 });
    const png = PNG.sync.read(s.sessionImagePng('s-img')!);
    expect([png.width, png.height]).toEqual([338, 590]);

    const ui = new ConsoleState({ mode: 'ui', risk, log, now: () => T0 });
    ui.addSignal(signal('s-img'));
    const uiBody = ui.sessionBody('s-img') as { image: unknown; imageNote: string; lastEvent: unknown };
    expect(uiBody.image).toBeNull();
    expect(uiBody.imageNote).toMatch(/journeylens ui reads only the output topics/);
    expect(uiBody.lastEvent).toBeNull();
    expect(ui.sessionImagePng('s-img')).toBeUndefined();
  });
});

describe('console state: the mix per minute', () => {
  it('counts signals and alerts per minute and samples active sessions by cluster when a minute closes', () => {
    let now = T0;
    const s = state({ now: () => now });
    s.addSignal(signal('a', { clusterId: 1, emittedAt: now }));
    s.addSignal(signal('b', { clusterId: 1, emittedAt: now }));
    s.addSignal(signal('c', { clusterId: 3, emittedAt: now }));
    s.addAlert(alert(1, { riskBand: 'medium', emittedAt: now }));
    now += 60_000;
    // c closes in the next minute; a new session d starts
    s.addSignal(signal('c', { clusterId: 3, final: true, emittedAt: now, eventCount: 2 }));
    s.addSignal(signal('d', { clusterId: -1, emittedAt: now }));
    const [prev, cur] = s.mix(2);
    expect(prev).toMatchObject({ t: T0, signals: 3, alerts: 1, alertsByBand: { low: 0, medium: 1, high: 0 }, active: 3, activeByCluster: { '1': 2, '3': 1 } });
    expect(cur).toMatchObject({ t: T0 + 60_000, signals: 2, alerts: 0, active: 3, activeByCluster: { '1': 2, '-1': 1 } });
    // past the active window (the bundle's 30-minute gap without a bundle) nothing is active
    now += 31 * 60_000;
    expect(s.currentPoint()).toMatchObject({ signals: 0, active: 0, activeByCluster: {} });
    const hour = s.mix(60);
    expect(hour).toHaveLength(60);
    expect(hour.map((p) => p.t)).toEqual(Array.from({ length: 60 }, (_, k) => hour[0]!.t + k * 60_000));
  });

  it(`keeps ${CONSOLE_LIMITS.mixMinutes} minutes and puts a time ahead of the clock in the current minute`, () => {
    let now = T0;
    const s = state({ now: () => now });
    s.addSignal(signal('a', { emittedAt: now }));
    now += CONSOLE_LIMITS.mixMinutes * 60_000;
    s.addSignal(signal('b', { emittedAt: now + 3_600_000 }));
    const points = s.mix(CONSOLE_LIMITS.mixMinutes);
    expect(points).toHaveLength(CONSOLE_LIMITS.mixMinutes);
    expect(points.reduce((n, p) => n + p.signals, 0)).toBe(1);
    expect(points.at(-1)!.signals).toBe(1);
    expect(s.mix(500)).toHaveLength(CONSOLE_LIMITS.mixMinutes);
  });
});

describe('console state: the model card', () => {
  it('describes the default bundle: every cluster with a prototype of one size, figures flattened to scalars', () => {
    const s = state({ bundleDir: defaultBundleDir() });
    const body = s.modelBody() as { apiVersion: number; modelVersion: string; clusters: { id: number; prototypeUrl: string }[]; training: Record<string, unknown>; metrics: Record<string, unknown>; limits: unknown; imageSpec: { cols: number } };
    const file = JSON.parse(readFileSync(join(defaultBundleDir(), 'clusters.json'), 'utf8')) as { clusters: { id: number }[] };
    expect(body.apiVersion).toBe(1);
    expect(body.clusters.map((c) => c.id)).toEqual(file.clusters.map((c) => c.id).sort((a, b) => a - b));
    for (const c of body.clusters) {
      expect(c.prototypeUrl).toBe(`/api/clusters/${c.id}/prototype.png?v=${body.modelVersion}`);
      const png = PNG.sync.read(s.prototypePng(c.id)!);
      expect([png.width, png.height]).toEqual([338, 590]);
    }
    expect(body.training['clusterSpace.dwellWeight']).toBe(2.5);
    for (const v of [...Object.values(body.training), ...Object.values(body.metrics)]) expect(v === null || ['number', 'string', 'boolean'].includes(typeof v)).toBe(true);
    expect(body.limits).toEqual(CONSOLE_LIMITS);
    expect(body.imageSpec.cols).toBe(22);
  });

  it('shades the bands the one risk setting gives, with a bundle and without one', () => {
    const withBundle = state({ bundleDir: defaultBundleDir() });
    expect((withBundle.modelBody() as { riskBands: unknown }).riskBands).toEqual({ mediumThreshold: 0.4, highThreshold: 0.7 });
    const custom = new ConsoleState({ mode: 'ui', risk: parseRiskSetting('medium=0.3,high=0.9'), log });
    expect((custom.modelBody() as { riskBands: unknown }).riskBands).toEqual({ mediumThreshold: 0.3, highThreshold: 0.9 });
    // a budget needs a bundle's stored risk distribution, as in `run`
    expect(() => new ConsoleState({ mode: 'ui', risk: parseRiskSetting('medium=top20%,high=top5%'), log })).toThrow(/--risk \(env JOURNEYLENS_RISK\) medium=top20% needs the risk distribution/);
  });

  it('reloads the card when signals carry a new model version, and tells the streams', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'jl-console-')), 'bundle');
    cpSync(defaultBundleDir(), dir, { recursive: true });
    let now = T0;
    const s = state({ bundleDir: dir, now: () => now });
    const before = s.card!.modelVersion;
    const changes: ConsoleChange[] = [];
    s.subscribe((c) => changes.push(c));
    // a retrained bundle: same files, a new version (the manifest is not in its own checksums)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { modelVersion: string; files: Record<string, string> };
    manifest.modelVersion = 'retrained0001';
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(sha256File(join(dir, 'clusters.json'))).toBe(manifest.files['clusters.json']);
    s.addSignal(signal('x', { modelVersion: before }));
    expect(changes).toEqual([]);
    now += 1000;
    s.addSignal(signal('x', { modelVersion: 'retrained0001', eventCount: 2 }));
    expect(changes).toEqual([{ kind: 'model', modelVersion: 'retrained0001' }]);
    expect(s.card!.modelVersion).toBe('retrained0001');
    expect(s.stats.modelReloads).toBe(1);
  });
});
