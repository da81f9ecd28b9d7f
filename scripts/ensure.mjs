#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies when they are missing and fetches
// the pinned Kafka jars (tools/kafka/pom.xml) into tools/kafka/libs when they are missing.
// Uses only Node built-ins, because it runs before anything is installed.
//   --no-kafka   skip the Java/Maven/Kafka part (unit tests need no broker)
//   --kafka4     fetch the Kafka 4.x jars (tools/kafka4/pom.xml) instead, for `npm run test:kafka4`
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantKafka = !process.argv.includes('--no-kafka') && !process.env.KAFKA_BROKERS;

function fail(message) {
  process.stderr.write(`journeylens setup: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (res.error) fail(`could not run ${cmd}: ${res.error.message}`);
  return res.status ?? 1;
}

function has(cmd, args) {
  const res = spawnSync(cmd, args, { stdio: 'ignore' });
  return !res.error && res.status === 0;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node.js >= 20.19 is required, this is ${process.version}.`);

// npm dependencies: install when node_modules is missing or older than the lock file.
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
if (stale) {
  process.stderr.write('journeylens setup: installing npm dependencies…\n');
  const status = existsSync(lock) ? run('npm', ['ci', '--no-audit', '--no-fund']) : run('npm', ['install']);
  if (status !== 0) fail('npm install failed (see above).');
}

if (wantKafka) {
  if (!has('java', ['-version'])) {
    fail('Java is not installed (needed to run the local Kafka broker). Install a JDK >= 17 (Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS to use an existing cluster.');
  }
  const dist = process.argv.includes('--kafka4') ? 'kafka4' : 'kafka';
  const libs = join(root, 'tools', dist, 'libs');
  const done = join(libs, '.complete');
  const pom = join(root, 'tools', dist, 'pom.xml');
  const wanted = readFileSync(pom, 'utf8');
  const version = /<kafka\.version>([^<]+)</.exec(wanted)?.[1] ?? '?';
  if (!existsSync(done) || readFileSync(done, 'utf8') !== wanted) {
    if (!has('mvn', ['-v'])) {
      fail('Maven is not installed (needed once, to fetch the pinned Kafka jars from Maven Central). Install it (Debian: apt-get install maven), or set KAFKA_BROKERS to use an existing cluster.');
    }
    process.stderr.write(`journeylens setup: fetching Kafka ${version} jars from Maven Central into tools/${dist}/libs…\n`);
    const status = run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime']);
    if (status !== 0) fail('fetching the Kafka jars with Maven failed (see above).');
    writeFileSync(done, wanted);
  }
}
