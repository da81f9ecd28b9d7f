// Privacy as a user runs it (docs/privacy.md): with --pseudonymize-key-file the signals topic
// carries keyed-hash ids (key and value) while the alerts for the CRM carry the ids the CRM knows;
// the logs of a real run (info level, unusable records with no DLQ topic among the input) hold no
// user id, session id or payload value; --dlq-deny-fields removes fields from dead-letter copies.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startApp } from '../../src/processor/app.ts';
import { resolveConfig, runOptions } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { DLQ_HEADERS } from '../../src/sinks/dead-letter.ts';
import { DENIED, DLQ_REDACTED_HEADER } from '../../src/sinks/privacy.ts';
import { consoleUrl, startCli } from '../helpers/cli.ts';
import { collect, createTopics, produce, testKafka, uniqueName } from '../helpers/kafka.ts';

const brokers = inject('kafkaBrokers');

describe('privacy (real broker)', () => {
  it('pseudonymous ids on the signals topic, real ids on the alerts topic, and no id or payload in the logs of a run', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, alerts] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('alerts')];
    await createTopics(kafka, [input, signals, alerts]);
    const dir = mkdtempSync(join(tmpdir(), 'jl-privacy-'));
    const key = randomBytes(32).toString('base64');
    const keyFile = join(dir, 'pseudonym.key');
    writeFileSync(keyFile, `${key}\n`);
    const mark = randomBytes(4).toString('hex');
    const user = (i: number) => `PIIUSER${mark}u${i}`;
    const session = (i: number) => `PIISESSION${mark}s${i}`;
    const t0 = Date.now() - 3_600_000;
    const good = Array.from({ length: 60 }, (_, i) => {
      const ev = { eventId: `PIIEVENT${mark}e${i}`, sessionId: session(i % 4), userId: user(i % 4), timestamp: t0 + i * 5000, type: i % 5 === 4 ? 'support_contact' : 'product_view', page: `/PIIPAGE${mark}`, durationMs: 1000, value: 12.5, properties: { email: `PIIEMAIL${mark}@example.com` } };
      return { key: ev.sessionId, value: JSON.stringify(ev) };
    });
    // unusable records whose reasons quote their values (no DLQ topic: they are only logged)
    const bad = [
      { key: session(9), value: JSON.stringify({ eventId: 'b1', sessionId: session(9), userId: user(9), timestamp: `PIITIME${mark}`, type: 'page_view' }) },
      { key: session(9), value: JSON.stringify({ eventId: 'b2', sessionId: { nested: `PIINEST${mark}` }, timestamp: t0, type: 'page_view' }) },
      { key: session(9), value: `not json PIIRAW${mark}` },
    ];
    const proc = startCli(
      ['run', '--brokers', brokers, '--input', input, '--signals-topic', signals, '--alerts-topic', alerts, '--output-format', 'json', '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--group', uniqueName('g'), '--tick-ms', '100', '--pseudonymize-key-file', keyFile, '--risk', 'medium=0.06,high=0.07'],
      { JOURNEYLENS_LOG_LEVEL: 'info' },
    );
    onTestFinished(() => proc.kill('SIGKILL'));
    await proc.waitForOutput(/journeylens is running/, 60_000);
    await produce(kafka, input, [...good, ...bad]);
    const outSignals = await collect(kafka, signals);
    onTestFinished(() => outSignals.stop());
    const outAlerts = await collect(kafka, alerts);
    onTestFinished(() => outAlerts.stop());
    await outSignals.waitFor((ms) => ms.filter((m) => (JSON.parse(String(m.value)) as { eventCount: number }).eventCount === 15).length >= 4, 60_000, 'every session at its 15 events');
    await outAlerts.waitFor((ms) => ms.length >= 1, 60_000, 'alerts');
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    // signals: the keyed hash of the ids, in the value and the message key; never the ids
    const pseudonym = (id: string) => `p_${createHmac('sha256', Buffer.from(key)).update(id).digest('base64url').slice(0, 22)}`;
    const sigs = outSignals.messages.map((m) => ({ key: String(m.key), raw: String(m.value), s: JSON.parse(String(m.value)) as { sessionId: string; userId: string | null } }));
    expect(sigs.length).toBeGreaterThan(0);
    const sessionOf = new Map([0, 1, 2, 3].map((i) => [pseudonym(session(i)), i]));
    for (const { key: k, raw, s } of sigs) {
      expect(raw).not.toContain(mark);
      const i = sessionOf.get(s.sessionId);
      expect(i, `signal for an unknown session ${s.sessionId}`).toBeDefined();
      expect(s.userId).toBe(pseudonym(user(i!)));
      expect(k).toBe(s.userId);
    }
    // alerts: the ids the CRM knows
    const alertIds = outAlerts.messages.map((m) => JSON.parse(String(m.value)) as { sessionId: string; userId: string | null });
    expect(alertIds.every((a) => [0, 1, 2, 3].map(session).includes(a.sessionId))).toBe(true);
    expect(alertIds.every((a) => a.userId === user(Number(a.sessionId.slice(-1))))).toBe(true);

    // the logs: JSON lines, none at info or above carries an id or a value of the records
    const lines = proc
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const entries = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(entries.some((e) => e.msg === 'unusable record (no --dlq-topic configured, so it is only logged)')).toBe(true);
    const leaks = lines.filter((l) => l.includes(mark) || l.includes(key));
    expect(leaks).toEqual([]);

    // journeylens ui on the same topics, given the key file: an alert (real ids) joins its
    // pseudonymous session, found by the real session id and the real user id
    const ui = startCli(['ui', '--brokers', brokers, '--signals-topic', signals, '--alerts-topic', alerts, '--ui-port', '0', '--window-minutes', '120', '--pseudonymize-key-file', keyFile, '--log-level', 'info']);
    onTestFinished(() => ui.kill('SIGKILL'));
    const base = await consoleUrl(ui);
    await ui.waitForOutput(/replayed the window of the output topics/, 60_000);
    const alerted = alertIds[0]!;
    const looked = (await (await fetch(`${base}/api/sessions/${encodeURIComponent(alerted.sessionId)}`)).json()) as { sessionId: string; latest: { eventCount: number } | null; alerts: unknown[] };
    expect(looked.sessionId).toBe(pseudonym(alerted.sessionId));
    expect(looked.latest?.eventCount).toBe(15);
    expect(looked.alerts.length).toBeGreaterThanOrEqual(1);
    const byUser = (await (await fetch(`${base}/api/users/${encodeURIComponent(alerted.userId!)}`)).json()) as { sessions: { sessionId: string }[] };
    expect(byUser.sessions.map((x) => x.sessionId)).toContain(pseudonym(alerted.sessionId));
    ui.kill('SIGTERM');
    expect(await ui.exited).toBe(0);
    expect(ui.stderr()).not.toContain(mark);

    process.stderr.write(`[privacy] log scan: ${lines.length} log lines (levels ${[...new Set(entries.map((e) => e.level))].join(', ')}), 0 carrying a marked id or value; ${sigs.length} signals pseudonymous, ${alertIds.length} alerts with real ids\n`);
  });

  it('removes the denied fields from dead-letter copies and leaves out a value that is not a JSON object; events without consent are counted, never dead-lettered', async () => {
    const kafka = testKafka(brokers);
    const [input, signals, dlq] = [uniqueName('clicks'), uniqueName('signals'), uniqueName('dlq')];
    await createTopics(kafka, [input, signals, dlq], 1);
    const configFile = join(mkdtempSync(join(tmpdir(), 'jl-privacy-')), 'config.json');
    writeFileSync(configFile, JSON.stringify({ ingestion: { consent: 'consent.analytics' } }));
    const flags = { brokers, input, signalsTopic: signals, dlqTopic: dlq, dlqDenyFields: 'userId,properties.email', group: uniqueName('g'), outputFormat: 'json', metricsPort: '0', metricsHost: '127.0.0.1', tickMs: '100', config: configFile };
    const seen: string[] = [];
    const app = await startApp(resolveConfig(runOptions, flags, {}), { flags, log: createLogger({ level: 'silent' }), onSignal: (sig) => seen.push(sig.sessionId) });
    onTestFinished(() => app.stop());
    const yes = { analytics: true };
    const t = Date.now() - 60_000;
    await produce(kafka, input, [
      { key: 'a', value: JSON.stringify({ eventId: 'd1', sessionId: 'a', userId: 'alice@example.com', timestamp: 'soon', type: 'page_view', properties: { email: 'alice@example.com', plan: 'pro' }, consent: yes }) },
      { key: 'b', value: JSON.stringify({ eventId: 'd2', sessionId: 'b', timestamp: 'soon', type: 'page_view', consent: yes }) },
      { key: 'c', value: 'not json: alice@example.com' },
      // without consent: a valid event and a malformed one, neither sessionized nor copied
      { key: 'd', value: JSON.stringify({ eventId: 'd4', sessionId: 'd', userId: 'dora@example.com', timestamp: t, type: 'page_view', consent: { analytics: false } }) },
      { key: 'e', value: JSON.stringify({ eventId: 'd5', sessionId: 'e', userId: 'eve@example.com', timestamp: 'soon', type: 'page_view' }) },
      { key: 'f', value: JSON.stringify({ eventId: 'd6', sessionId: 'f', timestamp: t, type: 'page_view', consent: yes }) },
    ]);
    const out = await collect(kafka, dlq);
    onTestFinished(() => out.stop());
    const until = Date.now() + 60_000;
    while (!seen.includes('f') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['f']);
    await out.waitFor((ms) => ms.length >= 3, 60_000, 'three dead letters');
    const stats = app.processor.stats;
    expect({ records: stats.records, noConsent: stats.noConsent, dead: stats.dead, processed: stats.processed }).toEqual({ records: 6, noConsent: 2, dead: 3, processed: 1 });
    const metrics = await (await fetch(`${app.ops.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`journeylens_events_total\\{topic="${input}",outcome="no_consent"\\} 2\\b`));
    const [a, b, c, more] = out.messages;
    expect(more).toBeUndefined();
    expect(JSON.parse(String(a!.value))).toMatchObject({ userId: DENIED, properties: { email: DENIED, plan: 'pro' }, sessionId: 'a' });
    expect(a!.headers?.[DLQ_REDACTED_HEADER]?.toString()).toBe('userId,properties.email');
    expect(a!.headers?.[DLQ_HEADERS.sourceOffset]?.toString()).toBe('0');
    // nothing denied in it: the original bytes
    expect(JSON.parse(String(b!.value))).toEqual({ eventId: 'd2', sessionId: 'b', timestamp: 'soon', type: 'page_view', consent: yes });
    expect(b!.headers?.[DLQ_REDACTED_HEADER]).toBeUndefined();
    expect(c!.value).toBeNull();
    expect(c!.headers?.[DLQ_REDACTED_HEADER]?.toString()).toBe('value');
  });
});
