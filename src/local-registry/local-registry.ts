// A throwaway schema registry on 127.0.0.1 for tests and development: Apicurio Registry 3, whose
// Confluent-compatible API (`<url>/apis/ccompat/v7`, what --schema-registry-url takes) journeylens
// uses as it uses Confluent Schema Registry. The server comes from tools/registry/pom.xml (fetched
// by scripts/ensure-registry.mjs into tools/registry/dist) and runs on a Java >= 21 found by
// findJava, which is often not the default `java`. Mirrors src/local-kafka/.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, JourneylensError } from '../errors.ts';
import { freePort, stopPid } from '../local-kafka/local-kafka.ts';
import { type FoundJava, findJava } from './java.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** tools/registry at the package root: two levels up from src/local-registry/, three from dist/src/local-registry/. */
export const registryToolsDir = [resolve(here, '..', '..', 'tools', 'registry'), resolve(here, '..', '..', '..', 'tools', 'registry')].find((d) => existsSync(join(d, 'pom.xml'))) ?? resolve(here, '..', '..', 'tools', 'registry');
export const registryDistDir = join(registryToolsDir, 'dist');

/** Apicurio Registry 3 is built for Java 21. */
export const REGISTRY_MIN_JAVA = 21;

export interface LocalRegistryOptions {
  /** API port; a free one is picked when absent. A restart on the same port keeps clients' URLs valid. */
  port?: number;
  /** Quarkus management port (health); a free one is picked when absent. */
  managementPort?: number;
  heap?: string;
  /** Basic auth: when set, the API needs one of these users (all may read and write). */
  users?: Record<string, string>;
  /** TLS: PEM files; the API is then served over https only. */
  tls?: { certFile: string; keyFile: string };
  /** Keeps the schemas in an H2 file database here, so a restart on it serves the same ids (in memory otherwise). */
  dataDir?: string;
  startTimeoutMs?: number;
}

export interface LocalRegistryHandle {
  /** e.g. http://127.0.0.1:8081 */
  url: string;
  /** The Confluent-compatible API, what --schema-registry-url takes. */
  ccompatUrl: string;
  port: number;
  managementPort: number;
  pid: number;
  java: FoundJava;
  logFile: string;
  stop(): Promise<void>;
}

/** The local registry could not start; the message says why and what to do. */
export class LocalRegistryError extends JourneylensError {
  override name = 'LocalRegistryError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCodes.LOCAL_REGISTRY, message, options);
  }
}

/** The -D system properties that configure the server; exported for the tests. */
export function registryProperties(o: { port: number; managementPort: number; users?: Record<string, string>; tls?: { certFile: string; keyFile: string }; dataDir?: string }): Record<string, string> {
  const p: Record<string, string> = {
    'quarkus.http.host': '127.0.0.1',
    'quarkus.management.host': '127.0.0.1',
    'quarkus.management.port': String(o.managementPort),
    // An access-log line per request and INFO start-up chatter are noise in a test run.
    'quarkus.http.access-log.enabled': 'false',
    'quarkus.log.level': 'WARN',
    // 20 pooled H2 connections by default: more than a test registry needs.
    'apicurio.datasource.jdbc.initial-size': '2',
    'apicurio.datasource.jdbc.min-size': '2',
    'apicurio.datasource.jdbc.max-size': '10',
  };
  if (o.tls) {
    p['quarkus.http.ssl-port'] = String(o.port);
    p['quarkus.http.insecure-requests'] = 'disabled';
    p['quarkus.http.ssl.certificate.files'] = o.tls.certFile;
    p['quarkus.http.ssl.certificate.key-files'] = o.tls.keyFile;
    p['quarkus.http.port'] = '0';
  } else {
    p['quarkus.http.port'] = String(o.port);
  }
  if (o.users && Object.keys(o.users).length > 0) {
    // The build carries the OIDC extension, so basic auth is off unless asked for; Quarkus warns
    // that quarkus.http.auth.basic is fixed at build time, yet honours it.
    p['quarkus.http.auth.basic'] = 'true';
    p['quarkus.security.users.embedded.enabled'] = 'true';
    p['quarkus.security.users.embedded.plain-text'] = 'true';
    for (const [user, password] of Object.entries(o.users)) {
      p[`quarkus.security.users.embedded.users.${user}`] = password;
      p[`quarkus.security.users.embedded.roles.${user}`] = 'sr-admin';
    }
    p['quarkus.http.auth.permission.registry.paths'] = '/apis/*';
    p['quarkus.http.auth.permission.registry.policy'] = 'authenticated';
  }
  if (o.dataDir) p['apicurio.datasource.url'] = `jdbc:h2:file:${join(o.dataDir, 'registry')};DB_CLOSE_ON_EXIT=FALSE`;
  return p;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

/** Quarkus' readiness check on the management port (no auth, no TLS there). */
function ready(managementPort: number): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port: managementPort, path: '/health/ready', timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
    req.end();
  });
}

const tail = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '');

export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistryHandle> {
  if (!existsSync(join(registryDistDir, '.complete')) || !existsSync(join(registryDistDir, 'quarkus-run.jar'))) {
    throw new LocalRegistryError(`Apicurio Registry is missing in ${registryDistDir}. Run \`node scripts/ensure-registry.mjs\` (needs Maven) to fetch it.`);
  }
  const java = findJava(REGISTRY_MIN_JAVA);
  if (!java) {
    throw new LocalRegistryError(
      `the local schema registry (Apicurio Registry) needs Java >= ${REGISTRY_MIN_JAVA}, and none was found ($JOURNEYLENS_JAVA_HOME, $JAVA_HOME, java on PATH, JDKs under /usr/lib/jvm and the other usual places). Install one (e.g. a Temurin 21 or 25 JDK) or point JOURNEYLENS_JAVA_HOME at it.`,
    );
  }
  const port = options.port ?? (await freePort());
  if (await portAnswers(port)) throw new LocalRegistryError(`port ${port} is already in use on 127.0.0.1.`);
  const managementPort = options.managementPort ?? (await freePort());
  const workDir = mkdtempSync(join(tmpdir(), 'journeylens-registry-'));
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const logFile = join(workDir, 'registry.log');
  const props = registryProperties({ port, managementPort, ...options });
  const args = [
    `-Xmx${options.heap ?? '256m'}`,
    // A test registry serves a handful of requests: the serial GC and C1 only start faster and use less memory.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${workDir}`,
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
    '-jar',
    join(registryDistDir, 'quarkus-run.jar'),
  ];
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(java.java, args, { cwd: workDir, stdio: ['ignore', out, out] });
  const pid = child.pid;
  if (pid === undefined) throw new LocalRegistryError(`could not start ${java.java} for the local schema registry.`);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  // If this process dies without calling stop(), the watchdog takes the JVM down with it.
  spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${pid} 2>/dev/null; sleep 15; kill -9 ${pid} 2>/dev/null`], { detached: true, stdio: 'ignore' }).unref();

  const scheme = options.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const handle: LocalRegistryHandle = {
    url,
    ccompatUrl: `${url}/apis/ccompat/v7`,
    port,
    managementPort,
    pid,
    java,
    logFile,
    async stop() {
      await stopPid(pid);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) {
      const lines = tail(logFile);
      rmSync(workDir, { recursive: true, force: true });
      throw new LocalRegistryError(`the schema registry exited with code ${exited} while starting (Java ${java.version} at ${java.java}). Last log lines:\n${lines}`);
    }
    if (await ready(managementPort)) return handle;
    await new Promise((r) => setTimeout(r, 200));
  }
  const lines = tail(logFile);
  await handle.stop();
  throw new LocalRegistryError(`the schema registry was not ready within ${timeoutMs / 1000}s. Last log lines:\n${lines}`);
}
