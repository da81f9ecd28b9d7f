#!/usr/bin/env node
// Makes `prometheus` and `promtool` available for the metrics tests: installs Debian's
// `prometheus` package when either is missing (scripts/debian-packages.mjs: root or passwordless
// sudo; its init script is not allowed to start a system-wide Prometheus — tests start their own).
//   prints the directory holding both binaries on stdout; progress goes to stderr.
import { dirname } from 'node:path';
import { ensureDebianPackages, which } from './debian-packages.mjs';

ensureDebianPackages({
  tool: 'ensure-prometheus',
  packages: ['prometheus'],
  what: 'prometheus/promtool are',
  offDebian: 'install Prometheus >= 2.40 and put prometheus and promtool on PATH.',
  present: () => which('prometheus') !== undefined && which('promtool') !== undefined,
});
const prometheus = which('prometheus');
const promtool = which('promtool');
if (dirname(prometheus) !== dirname(promtool)) process.stderr.write(`journeylens ensure-prometheus: note: promtool is ${promtool}\n`);
process.stdout.write(`${dirname(prometheus)}\n`);
