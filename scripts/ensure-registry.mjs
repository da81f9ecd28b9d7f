#!/usr/bin/env node
// Fetches the pinned schema registry (Apicurio Registry, tools/registry/pom.xml) from Maven
// Central into tools/registry/dist when it is missing or the pom changed, for the integration
// tests (started and stopped by src/local-registry/). Node built-ins only, like scripts/ensure.mjs.
// The tarball (~160 MB) lands in ~/.m2 once; dist/ is about as large unpacked. Running it needs a
// Java >= 21, which src/local-registry/java.ts looks for at start (not here: Maven runs on any).
//   --quiet   no progress lines
// JOURNEYLENS_SCHEMA_REGISTRY_URL set: the tests use that registry, nothing is fetched.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolDir = join(root, 'tools', 'registry');
const pom = join(toolDir, 'pom.xml');
const dist = join(toolDir, 'dist');
const marker = join(dist, '.complete');
const quiet = process.argv.includes('--quiet');

function fail(message) {
  process.stderr.write(`journeylens setup: ${message}\n`);
  process.exit(1);
}

if (process.env.JOURNEYLENS_SCHEMA_REGISTRY_URL) process.exit(0);

const wanted = readFileSync(pom, 'utf8');
const version = /<apicurio\.version>([^<]+)</.exec(wanted)?.[1] ?? '?';
if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted && existsSync(join(dist, 'quarkus-run.jar'))) process.exit(0);

const mvn = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
if (mvn.error || mvn.status !== 0) {
  fail('Maven is not installed (needed once, to fetch Apicurio Registry from Maven Central for the schema-registry tests). Install it (Debian: apt-get install maven), or set JOURNEYLENS_SCHEMA_REGISTRY_URL to a running registry.');
}
if (!quiet) process.stderr.write(`journeylens setup: fetching Apicurio Registry ${version} from Maven Central into tools/registry/dist…\n`);
const partial = `${dist}.partial`;
rmSync(partial, { recursive: true, force: true });
mkdirSync(partial, { recursive: true });
// unpack-dependencies records "already unpacked" markers, by default in tools/registry/target:
// after dist/ was deleted a second fetch would then unpack nothing. Keep them in the scratch dir.
const markers = join(partial, '.markers');
const res = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:unpack-dependencies', `-DoutputDirectory=${partial}`, `-DmarkersDirectory=${markers}`], { cwd: root, stdio: 'inherit' });
rmSync(markers, { recursive: true, force: true });
if (res.error || res.status !== 0 || !existsSync(join(partial, 'quarkus-run.jar'))) {
  rmSync(partial, { recursive: true, force: true });
  fail('fetching Apicurio Registry with Maven failed (see above).');
}
writeFileSync(join(partial, '.complete'), wanted);
// A rename, so a half-unpacked dist never looks complete.
rmSync(dist, { recursive: true, force: true });
renameSync(partial, dist);
if (!quiet) process.stderr.write(`journeylens setup: Apicurio Registry ${version} is in tools/registry/dist.\n`);
