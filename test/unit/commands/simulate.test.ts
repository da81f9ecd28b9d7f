import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, runCli as run, tempDir as tmp } from './run-cli.ts';

afterAll(removeTempDirs);

describe('journeylens simulate', () => {
  it('writes byte-identical files for the same seed and prints the summary', async () => {
    const a = tmp();
    const b = tmp();
    const first = await run('simulate', '--sessions', '400', '--seed', '7', '--out', a);
    const second = await run('simulate', '--sessions', '400', '--seed', '7', '--out', b);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    for (const f of readdirSync(a)) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    expect(first.stdout).toMatch(/400 sessions \(\d+ new, \d+ returning\), 134 users/);
    expect(first.stdout).toMatch(/churn rate \d+\.\d% of users/);
    expect(first.stdout).toMatch(/events per session: mean \d+\.\d, p50 \d+, p90 \d+/);
    expect(first.stdout).toMatch(/dwell time \(ms\): p10 \d+, p50 \d+, p90 \d+, p99 \d+/);
    expect(first.stdout).toContain('comparison_shopper');
    expect(first.stdout).toBe(second.stdout.replace(b, a));
  });

  it('prints the summary as JSON with --json, honouring --users and --start', async () => {
    const d = tmp();
    const r = await run('simulate', '--sessions', '200', '--users', '50', '--start', '2025-03-01T00:00:00Z', '--out', d, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { users: number; sessions: number; firstEventAt: string };
    expect(s.users).toBe(50);
    expect(s.sessions).toBe(200);
    expect(s.firstEventAt.startsWith('2025-03')).toBe(true);
  });

  it('needs exactly one destination', async () => {
    const none = await run('simulate', '--sessions', '10');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('simulate needs exactly one destination: --out DIR for files, or --brokers host:port --topic T for Kafka.');
    const both = await run('simulate', '--out', tmp(), '--brokers', 'localhost:9092');
    expect(both.code).toBe(2);
  });

  it('rejects a bad --start and Kafka options with --out', async () => {
    const bad = await run('simulate', '--out', tmp(), '--start', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--start must be an ISO 8601 time such as 2026-01-05T00:00:00Z, got "yesterday".');
    const mixed = await run('simulate', '--out', tmp(), '--topic', 'clicks');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--topic, --duration and --replay apply to Kafka output only');
    const liveStart = await run('simulate', '--brokers', 'localhost:1', '--topic', 't', '--start', '2026-01-01T00:00:00Z');
    expect(liveStart.code).toBe(2);
    expect(liveStart.stderr).toContain('--start applies to files and --replay; live traffic (the default for Kafka) starts now.');
    const noTopic = await run('simulate', '--brokers', 'localhost:1');
    expect(noTopic.code).toBe(2);
    expect(noTopic.stderr).toContain('--topic is required with --brokers.');
  });
});
