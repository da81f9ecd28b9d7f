#!/usr/bin/env node
// Makes `prometheus` and `promtool` available for the metrics tests: installs Debian's
// `prometheus` package when either is missing. Node built-ins only.
// Needs root (or passwordless sudo) and Debian's package mirrors, which CI has.
// The package's init script must not start a system-wide Prometheus (tests start their own on
// a free port), so the install runs with a policy-rc.d that forbids service starts.
//   prints the directory holding both binaries on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

function run(cmd, args, env) {
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (res.error) fail(`could not run ${cmd}: ${res.error.message}`);
  return res.status ?? 1;
}

let prometheus = which('prometheus');
let promtool = which('promtool');
if (!prometheus || !promtool) {
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
    if (apt(['update', '-q']) !== 0) fail('apt-get update failed (see above).');
    if (apt(['install', '-y', '-q', '--no-install-recommends', 'prometheus']) !== 0) fail('apt-get install prometheus failed (see above).');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  prometheus = which('prometheus');
  promtool = which('promtool');
  if (!prometheus || !promtool) fail('the prometheus package was installed but prometheus/promtool are still not on PATH.');
}
if (dirname(prometheus) !== dirname(promtool)) process.stderr.write(`journeylens ensure-prometheus: note: promtool is ${promtool}\n`);
process.stdout.write(`${dirname(prometheus)}\n`);
