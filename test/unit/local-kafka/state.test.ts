// `journeylens kafka start|stop|status` keep their state per checkout or per --state-dir
// (issue 17, item 6: one state file per machine pointed at another checkout's broker).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { packageRoot, readSavedBroker, stateDirOf, stateFile, stopDetached } from '../../../src/local-kafka/local-kafka.ts';
import { runCli } from '../commands/run-cli.ts';

const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'jl-kstate-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A long-lived process whose command line looks like (or not like) a local broker of `dataDir`. */
function fakeProcess(args: string[]): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...args], { stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  return child.pid!;
}
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local Kafka state', () => {
  it('lives in this checkout by default, or in JOURNEYLENS_STATE_DIR / --state-dir', () => {
    const saved = process.env.JOURNEYLENS_STATE_DIR;
    delete process.env.JOURNEYLENS_STATE_DIR;
    try {
      expect(stateDirOf()).toBe(join(packageRoot, '.journeylens'));
      expect(existsSync(join(packageRoot, 'package.json'))).toBe(true);
      process.env.JOURNEYLENS_STATE_DIR = '/tmp/elsewhere';
      expect(stateDirOf()).toBe('/tmp/elsewhere');
      expect(stateDirOf('/tmp/flag')).toBe('/tmp/flag');
    } finally {
      if (saved === undefined) delete process.env.JOURNEYLENS_STATE_DIR;
      else process.env.JOURNEYLENS_STATE_DIR = saved;
    }
  });

  it("status and stop see only their own state dir's broker, and never signal a process that is not that broker", async () => {
    const a = temp();
    const b = temp();
    const dataDir = join(a, 'data');
    const broker = fakeProcess(['kafka.Kafka', join(dataDir, 'server.properties')]);
    writeFileSync(stateFile(a), JSON.stringify({ pid: broker, port: 19092, bootstrap: '127.0.0.1:19092', dataDir }));

    expect(readSavedBroker(a)?.pid).toBe(broker);
    expect(readSavedBroker(b)).toBeUndefined();
    const other = await runCli('kafka', 'status', '--state-dir', b);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`no local Kafka broker of ${b} is running`);
    const stopOther = await runCli('kafka', 'stop', '--state-dir', b);
    expect(stopOther.stderr).toContain(`no local Kafka broker of ${b} is running`);
    expect(alive(broker)).toBe(true);
    expect((await runCli('kafka', 'status', '--state-dir', a)).stdout).toBe('127.0.0.1:19092\n');

    // a pid that now belongs to something else (e.g. after a reboot) is left alone
    const stranger = fakeProcess(['not-a-broker']);
    const c = temp();
    writeFileSync(stateFile(c), JSON.stringify({ pid: stranger, port: 1, bootstrap: '127.0.0.1:1', dataDir: join(c, 'data') }));
    expect(readSavedBroker(c)).toBeUndefined();
    expect(await stopDetached(c)).toBeUndefined();
    expect(alive(stranger)).toBe(true);

    const stopped = await runCli('kafka', 'stop', '--state-dir', a);
    expect(stopped.stderr).toContain('local Kafka at 127.0.0.1:19092 stopped');
    const deadline = Date.now() + 5000;
    while (alive(broker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(broker)).toBe(false);
    expect(existsSync(stateFile(a))).toBe(false);
    expect(readSavedBroker(a)).toBeUndefined();
  });
});
