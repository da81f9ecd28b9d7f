import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DENIED, denyFields, parseDenyFields, pseudonymizer, readPseudonymKey } from '../../../src/sinks/privacy.ts';

const dir = mkdtempSync(join(tmpdir(), 'jl-privacy-unit-'));

describe('pseudonymous ids', () => {
  it('refuses a missing or short key file, naming the option and the fix (exit code 2)', () => {
    expect(() => readPseudonymKey(join(dir, 'nope'))).toThrow(/--pseudonymize-key-file \(env JOURNEYLENS_PSEUDONYMIZE_KEY_FILE\): cannot read/);
    writeFileSync(join(dir, 'short'), 'secret\n');
    try {
      readPseudonymKey(join(dir, 'short'));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/holds 6 bytes; the key must be at least 32 random bytes/);
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('gives each id one stable pseudonym that depends on the key', () => {
    const a = pseudonymizer(Buffer.alloc(32, 1));
    const b = pseudonymizer(Buffer.alloc(32, 2));
    expect(a('user-1')).toBe(a('user-1'));
    expect(a('user-1')).not.toBe(a('user-2'));
    expect(a('user-1')).not.toBe(b('user-1'));
    expect(a('user-1')).toMatch(/^p_[A-Za-z0-9_-]{22}$/);
  });
});

describe('dead-letter deny-list', () => {
  it('validates the paths, naming the option and the entry', () => {
    expect(parseDenyFields(['userId', 'properties.email'])).toEqual([['userId'], ['properties', 'email']]);
    expect(() => parseDenyFields(['userId', 'properties..email'])).toThrow(/--dlq-deny-fields \(env JOURNEYLENS_DLQ_DENY_FIELDS\) entry "properties\.\.email" must be a dotted path/);
  });

  it('replaces denied fields, keeps the rest, and leaves out values that are not JSON objects', () => {
    const paths = parseDenyFields(['userId', 'properties.email', 'missing.field']);
    const out = denyFields(Buffer.from(JSON.stringify({ userId: 'u', sessionId: 's', properties: { email: 'e', plan: 'p' } })), paths);
    expect(out?.removed).toBe('userId,properties.email');
    expect(JSON.parse(String(out?.value))).toEqual({ userId: DENIED, sessionId: 's', properties: { email: DENIED, plan: 'p' } });
    expect(denyFields(Buffer.from('{"sessionId":"s"}'), paths)).toBeUndefined();
    expect(denyFields(Buffer.from([0, 1, 2]), paths)).toEqual({ value: null, removed: 'value' });
    expect(denyFields(Buffer.from('[1,2]'), paths)).toEqual({ value: null, removed: 'value' });
    expect(denyFields(Buffer.from('{"a":1}'), [])).toBeUndefined();
    // a prototype key in the data is an own field like any other, never the prototype
    expect(JSON.parse(String(denyFields(Buffer.from('{"__proto__":{"x":1}}'), [['__proto__', 'x']])?.value))).toEqual({ ['__proto__']: { x: DENIED } });
  });
});
