// A throwaway single-node KRaft Kafka broker on 127.0.0.1 for development, tests and the demo
// (`journeylens kafka start|stop`, `journeylens demo`). It lives under src/ so the installed
// package ships it; the jars come from tools/kafka/pom.xml (fetched by scripts/ensure.mjs into
// tools/kafka/libs), found next to the package root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, JourneylensError } from '../errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
/**
 * tools/kafka at the package root: two levels up from src/local-kafka/ (tsx, vitest), three from
 * dist/src/local-kafka/ (the build, and the installed package, which ships tools/kafka/pom.xml).
 */
export const kafkaToolsDir = distributionDir('kafka');
export const kafkaLibsDir = join(kafkaToolsDir, 'libs');

/**
 * The pinned brokers, each a pom under tools/: `kafka` (Apache Kafka 3.9.1, the default for the
 * tests, the demo and `kafka start`) and `kafka4` (Apache Kafka 4.x, for `npm run test:kafka4`).
 */
export const KAFKA_DISTRIBUTIONS = ['kafka', 'kafka4'] as const;
export type KafkaDistribution = (typeof KAFKA_DISTRIBUTIONS)[number];

function distributionDir(d: KafkaDistribution): string {
  const candidates = [resolve(here, '..', '..', 'tools', d), resolve(here, '..', '..', '..', 'tools', d)];
  return candidates.find((c) => existsSync(join(c, 'pom.xml'))) ?? (candidates[0] as string);
}

/** The Kafka version a distribution's pom pins, e.g. "3.9.1". */
export function kafkaVersion(d: KafkaDistribution = 'kafka'): string {
  return /<kafka\.version>([^<]+)</.exec(readFileSync(join(distributionDir(d), 'pom.xml'), 'utf8'))?.[1] ?? 'unknown';
}

export interface LocalKafkaOptions {
  /** Broker (client) port; a free one is picked when absent. */
  port?: number;
  /** KRaft controller port; a free one is picked when absent (tests that set `listeners` need it). */
  controllerPort?: number;
  /** JVM heap, e.g. "512m". */
  heap?: string;
  /** Extra server.properties entries (listeners for SASL/TLS tests, for example). */
  properties?: Record<string, string>;
  /** Extra JVM system properties / flags. */
  jvmArgs?: string[];
  /**
   * Detached brokers outlive this process (`journeylens kafka start`). Owned brokers are
   * killed by a watchdog if this process dies without stopping them.
   */
  detached?: boolean;
  /** How long to wait for the broker to answer. */
  startTimeoutMs?: number;
  /** Reuse this data directory (a restart of the same broker keeps its topics). */
  dataDir?: string;
  /** Extra `kafka-storage format` arguments, e.g. `--add-scram` users for SASL/SCRAM tests. */
  formatArgs?: string[];
  /** Which pinned broker: tools/kafka (3.9.1, default) or tools/kafka4. */
  distribution?: KafkaDistribution;
}

export interface LocalKafkaHandle {
  bootstrap: string;
  port: number;
  controllerPort: number;
  pid: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The local broker could not start or stop; the message says why and what to do. */
export class LocalKafkaError extends JourneylensError {
  override name = 'LocalKafkaError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCodes.LOCAL_KAFKA, message, options);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
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

function assertJars(libs: string, distribution: KafkaDistribution): void {
  if (!existsSync(join(libs, '.complete'))) {
    throw new LocalKafkaError(
      `Kafka jars are missing in ${libs}. Run \`node scripts/ensure.mjs${distribution === 'kafka' ? '' : ` --${distribution}`}\` (needs Maven) to fetch them, or set KAFKA_BROKERS to use an existing cluster.`,
    );
  }
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    throw new LocalKafkaError('Java is not installed or not on PATH; the local Kafka broker needs a JDK >= 17 (Debian: apt-get install openjdk-17-jre-headless).');
  }
}

// A base64url id can start with '-', which StorageTool's argument parser reads as an option
// ("argument --cluster-id/-t: expected one argument"): about 1 start in 64 failed that way.
function clusterId(): string {
  const id = randomBytes(16).toString('base64url').slice(0, 22);
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

function serverProperties(port: number, controllerPort: number, dataDir: string, extra: Record<string, string>): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(dataDir, 'logs'),
    'num.partitions': '3',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '5',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    'log.retention.hours': '24',
    'log.segment.bytes': String(64 * 1024 * 1024),
    'num.network.threads': '2',
    'num.io.threads': '2',
    'background.threads': '2',
    'num.recovery.threads.per.data.dir': '1',
    'delete.topic.enable': 'true',
    ...extra,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=WARN, file',
    'log4j.logger.kafka.server.KafkaServer=INFO',
    'log4j.logger.kafka.server.KafkaRaftServer=INFO',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
  ].join('\n');
}

/** Kafka 4 logs through Log4j 2 (3.x through reload4j): the same file and pattern, so the start check below reads both. */
function log4j2Properties(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.kafkaServer.name = kafka.server.KafkaServer',
    'logger.kafkaServer.level = INFO',
    'logger.raftServer.name = kafka.server.KafkaRaftServer',
    'logger.raftServer.level = INFO',
  ].join('\n');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/** SIGTERM (clean shutdown), then SIGKILL if the JVM does not exit in time. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitForExit(pid, 5_000);
}

export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafkaHandle> {
  const distribution = options.distribution ?? 'kafka';
  const libs = join(distributionDir(distribution), 'libs');
  assertJars(libs, distribution);
  const port = options.port ?? (await freePort());
  if (await portAnswers(port)) throw new LocalKafkaError(`port ${port} is already in use on 127.0.0.1; pick another with --port.`);
  const controllerPort = options.controllerPort ?? (await freePort());
  const reuse = options.dataDir !== undefined && existsSync(join(options.dataDir, 'logs', 'meta.properties'));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'journeylens-kafka-'));
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(dataDir, 'server.properties');
  const logFile = join(dataDir, 'server.log');
  writeFileSync(configFile, serverProperties(port, controllerPort, dataDir, options.properties ?? {}));
  writeFileSync(join(dataDir, 'log4j.properties'), log4jProperties(logFile));
  writeFileSync(join(dataDir, 'log4j2.properties'), log4j2Properties(logFile));

  const classpath = `${libs}/*`;
  const jvm = [
    `-Xmx${options.heap ?? '512m'}`,
    `-Xms${options.heap ?? '512m'}`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${join(dataDir, 'log4j.properties')}`,
    `-Dlog4j2.configurationFile=${join(dataDir, 'log4j2.properties')}`,
    '-Djourneylens.localkafka=1',
    ...(options.jvmArgs ?? []),
  ];
  if (!reuse) {
    const fmt = spawnSync('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', configFile, '--ignore-formatted', ...(options.formatArgs ?? [])], {
      encoding: 'utf8',
    });
    if (fmt.status !== 0) throw new LocalKafkaError(`formatting the KRaft storage failed: ${fmt.stderr || fmt.stdout}`);
  } else {
    // The controller port changes between runs; the quorum is single-node, so that is fine.
  }

  const out = openSync(join(dataDir, 'stdout.log'), 'a');
  const child: ChildProcess = spawn('java', [...jvm, '-cp', classpath, 'kafka.Kafka', configFile], {
    detached: options.detached ?? false,
    stdio: ['ignore', out, out],
  });
  const pid = child.pid;
  if (pid === undefined) throw new LocalKafkaError('could not start java for the local Kafka broker.');
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  if (options.detached) {
    child.unref();
  } else {
    // If this process dies without calling stop(), the watchdog takes the JVM down with it.
    const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${pid} 2>/dev/null; sleep 15; kill -9 ${pid} 2>/dev/null`], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.unref();
  }

  const handle: LocalKafkaHandle = {
    bootstrap: `127.0.0.1:${port}`,
    port,
    controllerPort,
    pid,
    dataDir,
    logFile,
    async stop() {
      await stopPid(pid);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (exited !== null) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
      throw new LocalKafkaError(`the Kafka broker exited with code ${exited} while starting. Last log lines:\n${tail}`);
    }
    if (existsSync(logFile) && /started \(kafka\.server\.KafkaRaftServer\)|Kafka Server started/.test(readFileSync(logFile, 'utf8'))) {
      if (await portAnswers(port)) return handle;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await handle.stop();
  throw new LocalKafkaError(`the Kafka broker did not answer on 127.0.0.1:${port} within ${(options.startTimeoutMs ?? 90_000) / 1000}s; see ${logFile}.`);
}

// --- state for `journeylens kafka start|stop`, which run as separate processes ---------------
// The state is per checkout (the package root's .journeylens/, git-ignored) or per --state-dir:
// one file per machine let one project's `kafka stop` stop another project's broker.

/** The package root: tools/kafka's grandparent. */
export const packageRoot = resolve(kafkaToolsDir, '..', '..');

/** Where `kafka start|stop|status` keep their state: `stateDir`, else JOURNEYLENS_STATE_DIR, else <checkout>/.journeylens. */
export function stateDirOf(stateDir?: string): string {
  return resolve(stateDir ?? process.env.JOURNEYLENS_STATE_DIR ?? join(packageRoot, '.journeylens'));
}

export function stateFile(stateDir?: string): string {
  const dir = stateDirOf(stateDir);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'local-kafka.json');
}

export interface SavedBroker {
  pid: number;
  port: number;
  bootstrap: string;
  dataDir: string;
}

/**
 * The saved pid is still our broker: alive, and (where /proc tells) a java process started with
 * this broker's data dir. A pid reused by another process after a reboot is never signalled.
 */
function isOurBroker(saved: SavedBroker): boolean {
  if (!isAlive(saved.pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${saved.pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc (macOS): alive is all we can tell
  }
  return cmdline.includes('kafka.Kafka') && cmdline.includes(saved.dataDir);
}

function readState(file: string): SavedBroker | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SavedBroker;
  } catch {
    return undefined;
  }
}

/** The broker this checkout (or `stateDir`) started, if it still runs. */
export function readSavedBroker(stateDir?: string): SavedBroker | undefined {
  const saved = readState(stateFile(stateDir));
  return saved !== undefined && isOurBroker(saved) ? saved : undefined;
}

export async function startDetached(port?: number, stateDir?: string): Promise<SavedBroker> {
  const running = readSavedBroker(stateDir);
  if (running) throw new LocalKafkaError(`a local broker is already running at ${running.bootstrap} (pid ${running.pid}, state in ${stateDirOf(stateDir)}); stop it with \`journeylens kafka stop\`.`);
  const h = await startLocalKafka({ ...(port === undefined ? {} : { port }), detached: true });
  const saved: SavedBroker = { pid: h.pid, port: h.port, bootstrap: h.bootstrap, dataDir: h.dataDir };
  writeFileSync(stateFile(stateDir), JSON.stringify(saved));
  return saved;
}

/** Stops the broker of this checkout (or `stateDir`) and deletes its data; undefined when none runs. */
export async function stopDetached(stateDir?: string): Promise<SavedBroker | undefined> {
  const file = stateFile(stateDir);
  const saved = readState(file);
  rmSync(file, { force: true });
  if (saved === undefined || !isOurBroker(saved)) return undefined;
  await stopPid(saved.pid);
  rmSync(saved.dataDir, { recursive: true, force: true });
  return saved;
}
