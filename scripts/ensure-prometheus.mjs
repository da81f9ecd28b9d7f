#!/usr/bin/env node
// Makes `prometheus` and `promtool` available for the metrics tests: installs Debian's
// `prometheus` package when either is missing. Node built-ins only.
// Needs root (or passwordless sudo) and Debian's package mirrors, which CI has.
// The package's init script must not start a system-wide Prometheus (tests start their own on
// a free port), so the install runs with a policy-rc.d that forbids service starts.
//   prints the directory holding both binaries on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

function fail(message) {
  process.stderr.write(`journeylens ensure-prometheus: ${message}\n`);
  process.exit(1);
}

function which(cmd) {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

// Child output goes to stderr: stdout carries only the result line callers read.
function run(cmd, args, env) {
  const res = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], env: { ...process.env, ...env } });
  if (res.error) fail(`could not run ${cmd}: ${res.error.message}`);
  return res.status ?? 1;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Test files (and the unit and integration tiers) may call this concurrently on a fresh
// machine; one installs, the others wait for it and then find the binaries.
function withLock(fn) {
  const lock = join(tmpdir(), 'journeylens-ensure-prometheus.lock');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock older than an install could take belongs to a process that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // removed by its owner meanwhile
      }
      if (Date.now() > deadline) fail(`waited 15 minutes for ${lock}; remove it if no install is running.`);
      sleep(500);
    }
  }
  // fail() exits the process, which skips `finally`; the exit hook releases the lock then too.
  const release = () => rmSync(lock, { recursive: true, force: true });
  process.once('exit', release);
  try {
    return fn();
  } finally {
    release();
  }
}

let prometheus = which('prometheus');
let promtool = which('promtool');
if (!prometheus || !promtool) withLock(() => {
  prometheus = which('prometheus');
  promtool = which('promtool');
  if (prometheus && promtool) return;
  if (!which('apt-get')) fail('prometheus/promtool are missing and this is not a Debian-like system: install Prometheus >= 2.40 and put prometheus and promtool on PATH.');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  if (sudo.length > 0 && !which('sudo')) fail('prometheus/promtool are missing; installing them needs root: run `apt-get install -y prometheus` as root.');
  process.stderr.write('journeylens ensure-prometheus: installing Debian package prometheus (once)…\n');
  // policy-rc.d lives in /usr/sbin by convention; invoke-rc.d consults POLICYRCD first.
  const dir = mkdtempSync(join(tmpdir(), 'jl-policy-'));
  const policy = join(dir, 'policy-rc.d');
  writeFileSync(policy, '#!/bin/sh\nexit 101\n');
  chmodSync(policy, 0o755);
  const env = { DEBIAN_FRONTEND: 'noninteractive', POLICYRCD: policy };
  try {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const prefix = sudo.length > 0 ? [...sudo, 'env', ...envArgs] : [];
    const apt = (args) => (prefix.length > 0 ? run(prefix[0], [...prefix.slice(1), 'apt-get', ...args], {}) : run('apt-get', args, env));
    if (apt(['-o', 'DPkg::Lock::Timeout=300', 'update', '-q']) !== 0) fail('apt-get update failed (see above).');
    if (apt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', 'prometheus']) !== 0) fail('apt-get install prometheus failed (see above).');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  prometheus = which('prometheus');
  promtool = which('promtool');
  if (!prometheus || !promtool) fail('the prometheus package was installed but prometheus/promtool are still not on PATH.');
});
if (dirname(prometheus) !== dirname(promtool)) process.stderr.write(`journeylens ensure-prometheus: note: promtool is ${promtool}\n`);
process.stdout.write(`${dirname(prometheus)}\n`);
