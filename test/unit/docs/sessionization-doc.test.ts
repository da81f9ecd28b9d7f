// docs/journey-image.md "Sessionization": the run line and the config file it gives, checked by
// `config print` (what `run` would use), and the refusals a wrong value gets.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeBlocks } from '../../helpers/docs.ts';
import { removeTempDirs, runCli, tempDir } from '../commands/run-cli.ts';

const DOC = 'docs/journey-image.md';

function runLine(): string[] {
  const [line] = codeBlocks(DOC, 'sh');
  const words = line!.trim().split(/\s+/);
  expect(words.slice(0, 2)).toEqual(['journeylens', 'run']);
  return words.slice(2);
}

describe('docs/journey-image.md sessionization settings', () => {
  afterAll(() => removeTempDirs());

  it('gives a run line whose idle timeout and session cap journeylens takes', async () => {
    const r = await runCli('config', 'print', ...runLine());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ idleTimeoutMs: 60_000, maxSessions: 500_000 });
  });

  it('gives a config file whose idle timeout, session cap and session key journeylens takes', async () => {
    // the config file, not the spec.json the doc also shows
    const file = codeBlocks(DOC, 'json').find((b) => b.includes('"ingestion"'));
    const path = join(tempDir(), 'journeylens.json');
    writeFileSync(path, file!);
    const r = await runCli('config', 'print', '--brokers', 'localhost:9092', '--input', 'clicks', '--config', path);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ idleTimeoutMs: 60_000, maxSessions: 500_000, ingestion: { sessionKey: 'userId' } });
  });

  it('defaults the idle timeout to 5 minutes and turns it off with 0, as the doc says', async () => {
    const words = runLine().filter((w, i, all) => w !== '--idle-timeout-ms' && all[i - 1] !== '--idle-timeout-ms');
    const byDefault = await runCli('config', 'print', ...words);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(JSON.parse(byDefault.stdout)).toMatchObject({ idleTimeoutMs: 300_000 });
    const off = await runCli('config', 'print', ...words, '--idle-timeout-ms', '0');
    expect(JSON.parse(off.stdout)).toMatchObject({ idleTimeoutMs: 0 });
  });

  it('refuses a session cap below 1 and an unknown session key, naming the setting', async () => {
    const cap = await runCli('config', 'print', ...runLine().map((w) => (w === '500000' ? '0' : w)));
    expect(cap.code).toBe(2);
    expect(cap.stderr).toMatch(/--max-sessions \(env JOURNEYLENS_MAX_SESSIONS\)/);
    const path = join(tempDir(), 'journeylens.json');
    writeFileSync(path, JSON.stringify({ ingestion: { sessionKey: 'visitor' } }));
    const key = await runCli('config', 'print', '--brokers', 'localhost:9092', '--input', 'clicks', '--config', path);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/sessionKey/);
    expect(key.stderr).toMatch(/sessionId/);
  });
});
