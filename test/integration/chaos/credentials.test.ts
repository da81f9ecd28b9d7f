// Scenario 5, credentials: a broker that only speaks SASL_SSL with SCRAM-SHA-512, its
// certificates generated here with openssl. `journeylens run` (the built CLI) with the right
// password produces signals; a wrong password exits non-zero with a message naming the
// credentials, not a stack trace; the password never shows up in the process output.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort, startLocalKafka } from '../../../src/local-kafka/local-kafka.ts';
import { runCli, startCli } from '../../helpers/cli.ts';
import { collect, createTopics, produce, uniqueName } from '../../helpers/kafka.ts';
import { maxCounts, parseSignals, report, tempDir } from './chaos.ts';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A throwaway CA and a broker certificate for 127.0.0.1/localhost, as PEM and a PKCS12 keystore. */
function makeCertificates(dir: string, storePassword: string): { ca: string; keystore: string } {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=journeylens chaos CA']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.cnf']);
  openssl(dir, ['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker', '-out', 'broker.p12', '-passout', `pass:${storePassword}`]);
  return { ca: join(dir, 'ca.pem'), keystore: join(dir, 'broker.p12') };
}

describe('chaos: credentials (scenario 5)', () => {
  it('SASL_SSL + SCRAM-SHA-512: the right password works, a wrong one exits non-zero with a clear message, no secret in the output', async () => {
    const started = Date.now();
    const dir = tempDir('sasl');
    const storePassword = randomBytes(8).toString('hex');
    const adminPassword = randomBytes(12).toString('hex');
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const user = 'journeylens';
    const { ca, keystore } = makeCertificates(dir, storePassword);
    const [port, controllerPort] = [await freePort(), await freePort()];
    const broker = await startLocalKafka({
      port,
      controllerPort,
      formatArgs: ['--add-scram', `SCRAM-SHA-512=[name="admin",password="${adminPassword}"]`, '--add-scram', `SCRAM-SHA-512=[name="${user}",password="${password}"]`],
      properties: {
        listeners: `SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `SASL_SSL://127.0.0.1:${port}`,
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
        'inter.broker.listener.name': 'SASL_SSL',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${adminPassword}";`,
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': keystore,
        'ssl.keystore.password': storePassword,
        'ssl.key.password': storePassword,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': ca,
        'ssl.client.auth': 'none',
      },
    });
    onTestFinished(() => broker.stop());
    const brokerUpMs = Date.now() - started;

    const kafka = new Kafka({
      clientId: uniqueName('chaos-sasl'),
      brokers: [broker.bootstrap],
      ssl: { ca: [readFileSync(ca, 'utf8')], rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: user, password },
      logLevel: logLevel.NOTHING,
    });
    const [input, signals] = [uniqueName('clicks'), uniqueName('signals')];
    await createTopics(kafka, [input, signals], 1);
    const t0 = Date.UTC(2026, 10, 1);
    const events = Array.from({ length: 30 }, (_, i) => ({ eventId: `e-${i}`, sessionId: `s-${i % 3}`, userId: null, timestamp: t0 + i * 1000, type: 'page_view', page: '/', durationMs: null, value: null, properties: {} }));
    await produce(kafka, input, events.map((e) => ({ key: e.sessionId, value: JSON.stringify(e) })));

    const common = ['run', '--brokers', broker.bootstrap, '--input', input, '--signals-topic', signals, '--output-format', 'json', '--metrics-port', '0', '--log-level', 'info', '--ssl-ca-file', ca, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', user];

    // the wrong password first: a clear refusal, exit code non-zero, no stack trace, no secret
    const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
    const wrong = await runCli([...common, '--group', uniqueName('g'), '--connect-timeout-ms', '15000'], { JOURNEYLENS_SASL_PASSWORD: wrongPassword }, 60_000);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/refused the credentials/);
    expect(wrong.stderr).toMatch(/--sasl-username/);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    for (const secret of [wrongPassword, password]) expect(wrong.stdout + wrong.stderr).not.toContain(secret);

    // the right password: signals for every session at its full count
    const proc = startCli([...common, '--group', uniqueName('g')], { JOURNEYLENS_SASL_PASSWORD: password });
    onTestFinished(() => proc.kill('SIGKILL'));
    const out = await collect(kafka, signals);
    onTestFinished(() => out.stop());
    await out.waitFor((ms) => [...maxCounts(parseSignals(ms)).values()].filter((n) => n === 10).length === 3, 60_000, 'a 10-event signal for each of the 3 sessions');
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stdout() + proc.stderr()).not.toContain(password);
    report('credentials', { brokerUpMs, rightPassword: { signals: out.messages.length, exit: 0 }, wrongPassword: { exit: wrong.code, message: wrong.stderr.trim().split('\n').pop()?.slice(0, 200) }, secretsInOutput: 0, elapsedMs: Date.now() - started });
  });
});
