#!/usr/bin/env node
// Makes a Chromium binary available for the web-console tests (test/helpers/browser.ts drives it
// with playwright-core, which brings no browser of its own): installs Debian's `chromium`
// package when `chromium` is missing (scripts/debian-packages.mjs: root or passwordless sudo).
// --no-install-recommends keeps the install small (no chromium-sandbox: the tests run with
// --no-sandbox, as root); fonts-liberation, a Recommends of chromium-common, is named
// explicitly so pages render with a proportional sans font on a bare machine.
//   prints the path of the chromium binary on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { ensureDebianPackages, failer, which } from './debian-packages.mjs';

const fail = failer('ensure-chromium');
const installed = ensureDebianPackages({
  tool: 'ensure-chromium',
  packages: ['chromium', 'fonts-liberation'],
  what: 'chromium is',
  offDebian: 'install Chromium (or Chrome) and put it on PATH as `chromium`.',
  present: () => which('chromium') !== undefined,
});
const chromium = which('chromium');
// A binary that is on PATH but cannot start (a half-finished install, missing libraries) is
// reported here, with its own words, rather than as a browser launch timeout in a test.
const res = spawnSync(chromium, ['--version'], { encoding: 'utf8', timeout: 30_000 });
if (res.status !== 0) fail(`${chromium} --version failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`}): ${(res.stderr ?? '').trim().slice(0, 500)}`);
if (installed) process.stderr.write(`journeylens ensure-chromium: installed ${res.stdout.trim()} at ${chromium}\n`);
process.stdout.write(`${chromium}\n`);
