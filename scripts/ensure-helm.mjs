#!/usr/bin/env node
// Makes `helm` available for the chart tests without a prebuilt download: builds the pinned
// Helm release from the Go module proxy into tools/bin/helm (git-ignored) once, then reuses
// it. CI caches tools/bin and the Go module/build caches. Node built-ins only, because it
// runs before anything else is installed.
//   prints the absolute path of the helm binary on stdout; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELM_VERSION = 'v3.22.0';
// The Kubernetes version helm assumes offline (lint/template), as its release build sets it:
// from the k8s.io/client-go it is built with (v0.37.x for helm v3.22).
const K8S_MINOR = '37';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'tools', 'bin');
const helm = join(binDir, 'helm');
// The stamp records which version the binary was built from, so bumping HELM_VERSION rebuilds.
const stamp = join(binDir, '.helm-version');
const stampValue = `${HELM_VERSION} k8s 1.${K8S_MINOR}`;

function fail(message) {
  process.stderr.write(`journeylens ensure-helm: ${message}\n`);
  process.exit(1);
}

function works(bin) {
  const res = spawnSync(bin, ['version', '--short'], { encoding: 'utf8' });
  return !res.error && res.status === 0 && res.stdout.startsWith(HELM_VERSION);
}

const fresh = existsSync(helm) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === stampValue;
if (!fresh || !works(helm)) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    fail('Go is not installed (needed once, to build helm from the Go module proxy). Install Go >= 1.24 (https://go.dev/doc/install), or put a helm binary at tools/bin/helm.');
  }
  mkdirSync(binDir, { recursive: true });
  process.stderr.write(`journeylens ensure-helm: building helm ${HELM_VERSION} from the Go module proxy into tools/bin (once, a few minutes)…\n`);
  // Helm's Makefile stamps these with -ldflags; `go install` alone would report "v3.22" and
  // assume Kubernetes 1.20.
  const ldflags = [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${K8S_MINOR}`,
  ].join(' ');
  const res = spawnSync('go', ['install', '-ldflags', ldflags, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
    cwd: root,
    // child output to stderr: stdout carries only the helm path callers read
    stdio: ['ignore', 2, 2],
    // CGO off: a static binary that needs no C toolchain. `go install pkg@version` ignores any
    // go.mod/go.work around it, so the repository cannot change what gets built.
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' },
  });
  if (res.error || res.status !== 0) fail(`go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION} failed (see above).`);
  if (!works(helm)) fail(`${helm} was built but does not report version ${HELM_VERSION}.`);
  writeFileSync(stamp, `${stampValue}\n`);
}
process.stdout.write(`${helm}\n`);
