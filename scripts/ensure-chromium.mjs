#!/usr/bin/env node
// Makes a Chromium binary available for the web-console tests (test/helpers/browser.ts drives it
// with playwright-core, which brings no browser of its own): installs Debian's `chromium`
// package when `chromium` is missing. Node built-ins only.
// Needs root (or passwordless sudo) and Debian's package mirrors, which CI has.
// --no-install-recommends keeps the install small (no chromium-sandbox: the tests run with
// --no-sandbox, as root); fonts-liberation, a Recommends of chromium-common, is named
// explicitly so pages render with a proportional sans font on a bare machine.
// Nothing here starts a service, but the same policy-rc.d as ensure-prometheus.mjs forbids
// service starts from the dependencies' maintainer scripts (dbus, udev) all the same.
//   prints the path of the chromium binary on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGES = ['chromium', 'fonts-liberation'];

function fail(message) {
  process.stderr.write(`journeylens ensure-chromium: ${message}\n`);
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
// machine; one installs, the others wait for it and then find the binary. apt's own lock is
// waited for separately (DPkg::Lock::Timeout), e.g. while ensure-prometheus.mjs installs.
function withLock(fn) {
  const lock = join(tmpdir(), 'journeylens-ensure-chromium.lock');
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

// A binary that is on PATH but cannot start (a half-finished install, missing libraries) is
// reported here, with its own words, rather than as a browser launch timeout in a test.
function checkRuns(bin) {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (res.status !== 0) fail(`${bin} --version failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`}): ${(res.stderr ?? '').trim().slice(0, 500)}`);
  return res.stdout.trim();
}

let chromium = which('chromium');
let installed = false;
if (!chromium) withLock(() => {
  chromium = which('chromium');
  if (chromium) return;
  if (!which('apt-get')) fail('chromium is missing and this is not a Debian-like system: install Chromium (or Chrome) and put it on PATH as `chromium`.');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  if (sudo.length > 0 && !which('sudo')) fail(`chromium is missing; installing it needs root: run \`apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}\` as root.`);
  process.stderr.write(`journeylens ensure-chromium: installing Debian packages ${PACKAGES.join(', ')} (once)…\n`);
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
    if (apt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...PACKAGES]) !== 0) fail(`apt-get install ${PACKAGES.join(' ')} failed (see above).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  chromium = which('chromium');
  if (!chromium) fail('the chromium package was installed but chromium is still not on PATH.');
  installed = true;
});
const version = checkRuns(chromium);
if (installed) process.stderr.write(`journeylens ensure-chromium: installed ${version} at ${chromium}\n`);
process.stdout.write(`${chromium}\n`);
