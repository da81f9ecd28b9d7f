// The one way the ensure-* scripts install a Debian package a test needs (chromium, prometheus):
// with apt as root or through passwordless sudo, once per machine under a lock, and with a
// policy-rc.d that forbids the packages' maintainer scripts to start services (tests start their
// own on free ports; dbus/udev need not run). Node built-ins only.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `fail(message)` that prints "journeylens <tool>: message" and exits 1. */
export function failer(tool) {
  return (message) => {
    process.stderr.write(`journeylens ${tool}: ${message}\n`);
    process.exit(1);
  };
}

/** The path `command -v` gives, or undefined. */
export function which(cmd) {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Test files (and the unit and integration tiers) may call an ensure script concurrently on a
// fresh machine; one installs, the others wait for it and then find the binaries. apt's own lock
// is waited for separately (DPkg::Lock::Timeout), e.g. while another ensure script installs.
function withLock(name, fail, fn) {
  const lock = join(tmpdir(), `journeylens-${name}.lock`);
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

/**
 * Installs `packages` unless `present()` holds, re-checked under the lock. `what` names the
 * missing binaries in messages; `offDebian` says what to do without apt. Returns true when it
 * installed, false when they were there; exits through `fail` when it cannot install.
 */
export function ensureDebianPackages({ tool, packages, what, offDebian, present }) {
  if (present()) return false;
  const fail = failer(tool);
  return withLock(tool, fail, () => {
    if (present()) return false;
    if (!which('apt-get')) fail(`${what} missing and this is not a Debian-like system: ${offDebian}`);
    const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
    if (sudo.length > 0 && !which('sudo')) fail(`${what} missing; installing needs root: run \`apt-get install -y --no-install-recommends ${packages.join(' ')}\` as root.`);
    process.stderr.write(`journeylens ${tool}: installing Debian package${packages.length > 1 ? 's' : ''} ${packages.join(', ')} (once)…\n`);
    // policy-rc.d lives in /usr/sbin by convention; invoke-rc.d consults POLICYRCD first.
    const dir = mkdtempSync(join(tmpdir(), 'jl-policy-'));
    const policy = join(dir, 'policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\nexit 101\n');
    chmodSync(policy, 0o755);
    const env = { DEBIAN_FRONTEND: 'noninteractive', POLICYRCD: policy };
    // Child output goes to stderr: stdout carries only the result line callers read.
    const run = (cmd, args, runEnv) => {
      const res = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], env: { ...process.env, ...runEnv } });
      if (res.error) fail(`could not run ${cmd}: ${res.error.message}`);
      return res.status ?? 1;
    };
    try {
      const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      const prefix = sudo.length > 0 ? [...sudo, 'env', ...envArgs] : [];
      const apt = (args) => (prefix.length > 0 ? run(prefix[0], [...prefix.slice(1), 'apt-get', ...args], {}) : run('apt-get', args, env));
      if (apt(['-o', 'DPkg::Lock::Timeout=300', 'update', '-q']) !== 0) fail('apt-get update failed (see above).');
      if (apt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...packages]) !== 0) fail(`apt-get install ${packages.join(' ')} failed (see above).`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (!present()) fail(`the package${packages.length > 1 ? 's were' : ' was'} installed but ${what} still not on PATH.`);
    return true;
  });
}
