import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { createLogger, isSecretKey, parseLogLevel, REDACTED, redactSecrets } from '../../src/log.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const raw = (): string => chunks.join('');
  return { stream, raw, lines: () => raw().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = ['s3cr3t-sasl-pa55', 'BEGIN-PRIVATE-KEY-abc', 'whsec_0123456789', 'tok-xyz-987', 'hunter2-nested', 'k-child-binding'];

describe('createLogger', () => {
  it('writes JSON lines with level names, ISO time, service and component', () => {
    const out = capture();
    const log = createLogger({ level: 'info', component: 'consumer', destination: out.stream });
    log.info({ topic: 'clicks', partition: 3 }, 'joined group');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', service: 'journeylens', component: 'consumer', topic: 'clicks', partition: 3, msg: 'joined group' });
    expect(String(line!.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', destination: out.stream });
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('never writes a secret, whatever shape it is logged in', () => {
    const out = capture();
    const log = createLogger({ level: 'trace', destination: out.stream });
    log.info(
      {
        kafka: { brokers: ['b:9093'], sasl: { mechanism: 'scram-sha-512', username: 'jl', password: SECRETS[0] }, ssl: { ca: 'ca.pem', key: SECRETS[1] } },
        webhook: { url: 'https://crm.example/hook', secret: SECRETS[2] },
      },
      'effective config',
    );
    log.warn({ token: SECRETS[3], deep: { a: { b: { c: { password: SECRETS[4] } } } }, webhookSecret: SECRETS[2], saslPassword: SECRETS[0] }, 'odd shapes');
    log.child({ apiKey: SECRETS[5] }).child({ component: 'x', nested: { sslKey: SECRETS[1] } }).error({ err: new Error('auth failed') }, 'child');
    const raw = out.raw();
    for (const s of SECRETS) expect(raw).not.toContain(s);
    const [config, odd, child] = out.lines();
    expect(config).toMatchObject({ kafka: { sasl: { username: 'jl', password: REDACTED }, ssl: { ca: 'ca.pem', key: REDACTED } }, webhook: { url: 'https://crm.example/hook', secret: REDACTED } });
    expect(odd).toMatchObject({ token: REDACTED, deep: { a: { b: { c: { password: REDACTED } } } }, webhookSecret: REDACTED, saslPassword: REDACTED });
    // errors still serialize with their type and message
    expect(child).toMatchObject({ apiKey: REDACTED, nested: { sslKey: REDACTED }, err: { type: 'Error', message: 'auth failed' } });
  });

  it('writes to stderr by default, leaving stdout to command output', () => {
    const code = "import { createLogger } from './src/log.ts'; createLogger().info({ sasl: { password: 'pw-in-child' } }, 'to stderr');";
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toBe('');
    expect(JSON.parse(res.stderr)).toMatchObject({ level: 'info', msg: 'to stderr', sasl: { password: REDACTED } });
  });

  it('refuses an unknown level with a message naming the option', () => {
    expect(() => createLogger({ level: 'verbose' })).toThrow(UserError);
    expect(() => parseLogLevel('verbose')).toThrow('--log-level / JOURNEYLENS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "verbose".');
    expect(parseLogLevel(' DEBUG ')).toBe('debug');
  });
});

describe('redactSecrets', () => {
  it('replaces secret fields at any depth and leaves the input untouched', () => {
    const input = { sasl: { password: 'p' }, list: [{ token: 't' }, { name: 'n' }], messageKey: 'session-1', emptySecret: '' };
    const out = redactSecrets(input);
    expect(out).toEqual({ sasl: { password: REDACTED }, list: [{ token: REDACTED }, { name: 'n' }], messageKey: 'session-1', emptySecret: '' });
    expect(input.sasl.password).toBe('p');
  });

  it('classifies field names', () => {
    for (const k of ['password', 'PASSWORD', 'sasl_password', 'webhook-secret', 'key', 'sslKey', 'privateKey', 'accessToken', 'Authorization']) expect(isSecretKey(k), k).toBe(true);
    for (const k of ['username', 'messageKey', 'keyword', 'topic']) expect(isSecretKey(k), k).toBe(false);
  });
});
