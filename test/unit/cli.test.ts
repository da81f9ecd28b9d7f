import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.ts';

function captureStderr(): { text: () => string } {
  let text = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  return { text: () => text };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('journeylens CLI', () => {
  it('exits 2 on an unknown flag and names it', async () => {
    const err = captureStderr();
    expect(await main(['node', 'journeylens', 'run', '--bogus'])).toBe(2);
    expect(err.text()).toContain("unknown option '--bogus'");
  });

  it('dlq replay: exits 2 naming a missing --from or --to, and an unknown --reason with the valid ones', async () => {
    const err = captureStderr();
    const env = { ...process.env };
    delete process.env.JOURNEYLENS_DLQ_REPLAY_FROM;
    delete process.env.JOURNEYLENS_CONFIG;
    try {
      expect(await main(['node', 'journeylens', 'dlq', 'replay', '--brokers', '127.0.0.1:1', '--to', 'clicks'])).toBe(2);
      expect(err.text()).toContain('--from (env JOURNEYLENS_DLQ_REPLAY_FROM) is required; pass --from <topic> or set JOURNEYLENS_DLQ_REPLAY_FROM.');
      expect(await main(['node', 'journeylens', 'dlq', 'replay', '--brokers', '127.0.0.1:1', '--from', 'dlq', '--to', 'clicks', '--reason', 'bogus'])).toBe(2);
      expect(err.text()).toMatch(/--reason \(env JOURNEYLENS_DLQ_REPLAY_REASON\) must be one of empty_value, too_large, .*unknown_schema_id, schema_incompatible, .*, got "bogus"/);
    } finally {
      process.env = env;
    }
  });

  it('exits 2 on an unknown command', async () => {
    const err = captureStderr();
    expect(await main(['node', 'journeylens', 'frobnicate'])).toBe(2);
    expect(err.text()).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 with the option named when run has no brokers', async () => {
    const err = captureStderr();
    const prev = process.env.JOURNEYLENS_BROKERS;
    delete process.env.JOURNEYLENS_BROKERS;
    try {
      expect(await main(['node', 'journeylens', 'run', '--input', 'clicks'])).toBe(2);
    } finally {
      if (prev !== undefined) process.env.JOURNEYLENS_BROKERS = prev;
    }
    expect(err.text()).toContain('--brokers (env JOURNEYLENS_BROKERS) is required');
  });

  it('has --help on every subcommand', async () => {
    const { buildProgram } = await import('../../src/cli.ts');
    const program = buildProgram();
    const walk = (c: typeof program): string[] => [c.name(), ...c.commands.flatMap(walk)];
    for (const cmd of program.commands) {
      expect(cmd.helpInformation()).toContain('-h, --help');
      for (const sub of cmd.commands) expect(sub.helpInformation()).toContain('-h, --help');
    }
    expect(walk(program)).toEqual(expect.arrayContaining(['run', 'kafka', 'start', 'stop']));
  });
});
