// A real Prometheus server for tests: scrapes the given targets every second, answers PromQL
// through its HTTP API, and is always stopped (stop(), and a process 'exit' hook as a backstop
// so a crashed test run never leaves a prometheus process behind).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTool } from './tools.ts';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  readonly url: string;
  readonly pid: number;
  /** An instant query; one sample per series. */
  query(promql: string): Promise<PromSample[]>;
  /** Polls `promql` until some sample satisfies `accept` (default: > 0); rejects after `timeoutMs`. */
  waitFor(promql: string, options?: { timeoutMs?: number; accept?: (value: number) => boolean }): Promise<PromSample[]>;
  /** Health of each scrape target as Prometheus sees it (`up`, `down`, `unknown`) with its last error. */
  targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port pairs to scrape, e.g. `127.0.0.1:9464`. */
  targets: string[];
  metricsPath?: string;
  /** Readiness wait, default 30 s. */
  startTimeoutMs?: number;
}

/** Installs Prometheus when missing (scripts/ensure-prometheus.mjs) and returns its bin directory. */
export function ensurePrometheus(): string {
  return ensureTool('ensure-prometheus.mjs');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const bin = join(ensurePrometheus(), 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'jl-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: journeylens',
      `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
      '    static_configs:',
      `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;

  async function stop(): Promise<void> {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  async function query(promql: string): Promise<PromSample[]> {
    const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async function targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]> {
    const data = await api<{ activeTargets: { scrapeUrl: string; health: string; lastError: string }[] }>('/api/v1/targets');
    return data.activeTargets.map((t) => ({ scrapeUrl: t.scrapeUrl, health: t.health, lastError: t.lastError }));
  }

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`prometheus exited early (${child.exitCode ?? child.signalCode}): ${stderr}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within ${options.startTimeoutMs ?? 30_000} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    pid: child.pid ?? -1,
    query,
    async waitFor(promql, opts = {}) {
      const accept = opts.accept ?? ((v: number) => v > 0);
      const until = Date.now() + (opts.timeoutMs ?? 20_000);
      let last: PromSample[] = [];
      for (;;) {
        last = await query(promql);
        if (last.some((s) => accept(s.value))) return last;
        if (Date.now() > until) {
          const t = await targets();
          throw new Error(`no sample of ${promql} was accepted within ${opts.timeoutMs ?? 20_000} ms; last ${JSON.stringify(last)}; targets ${JSON.stringify(t)}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    targets,
    stop,
  };
}

/** Runs `promtool check metrics` on an exposition text; `problems` is promtool's output. */
export function promtoolCheckMetrics(exposition: string): { ok: boolean; problems: string } {
  const promtool = join(ensurePrometheus(), 'promtool');
  const res = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (res.error) throw res.error;
  return { ok: res.status === 0, problems: `${res.stdout}${res.stderr}`.trim() };
}

/** `promtool check rules` on a rule file (`groups:` at the top). */
export function promtoolCheckRules(file: string): { ok: boolean; output: string } {
  const promtool = join(ensurePrometheus(), 'promtool');
  const res = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
  if (res.error) throw res.error;
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim() };
}

/** `promtool test rules` on a unit-test file (input series, expected alerts at given times). */
export function promtoolTestRules(file: string): { ok: boolean; output: string } {
  const promtool = join(ensurePrometheus(), 'promtool');
  const res = spawnSync(promtool, ['test', 'rules', file], { encoding: 'utf8' });
  if (res.error) throw res.error;
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim() };
}
