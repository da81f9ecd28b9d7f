// The operations HTTP endpoint: /metrics for Prometheus, /healthz for liveness and /readyz for
// readiness. node:http only: three fixed routes do not need a framework, and the server must
// keep answering while the process is busy, so every handler is cheap and never throws.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Registry } from 'prom-client';
import { listenOn } from './util/listen.ts';

/** A readiness check: true (or a resolved true) when that part of the process is ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface OpsServerOptions {
  registry: Registry;
  /** Default 0.0.0.0: Kubernetes probes and Prometheus reach the pod IP, not loopback. */
  host?: string;
  /** 0 picks a free port (tests); see `OpsServer.port` for the one bound. */
  port?: number;
  /** A check that does not answer within this time counts as failing (default 2000 ms). */
  checkTimeoutMs?: number;
}

export interface OpsServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  /** Adds or replaces a named readiness check (e.g. `consumerJoined`, `modelLoaded`, `brokerReachable`). */
  setReadinessCheck(name: string, check: ReadinessCheck): void;
  removeReadinessCheck(name: string): void;
  /** Runs every check now; `failing` names the checks that are false, threw or timed out. */
  readiness(): Promise<{ ready: boolean; failing: string[] }>;
  stop(): Promise<void>;
}

/** Starts the server and resolves once it listens; a port in use is a UserError naming the option. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const host = options.host ?? '0.0.0.0';
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  const checks = new Map<string, ReadinessCheck>();

  async function readiness(): Promise<{ ready: boolean; failing: string[] }> {
    const entries = [...checks.entries()];
    const results = await Promise.all(entries.map(([, check]) => runCheck(check, checkTimeoutMs)));
    const failing = entries.filter((_, i) => !results[i]).map(([name]) => name);
    return { ready: failing.length === 0, failing };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/metrics':
        send(res, 200, options.registry.contentType, await options.registry.metrics());
        return;
      case '/healthz':
        // Alive means the event loop answers; a stuck loop fails the probe by timing out.
        send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
        return;
      case '/readyz': {
        const r = await readiness();
        const body = JSON.stringify(r.ready ? { ready: true } : { ready: false, failing: r.failing });
        send(res, r.ready ? 200 : 503, 'application/json', `${body}\n`);
        return;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n');
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  // Probes and scrapes use short-lived connections; do not let idle keep-alives delay stop().
  server.keepAliveTimeout = 5_000;

  const { port, url } = await listenOn(server, host, options.port ?? 0, { purpose: 'metrics', portOption: '--metrics-port / JOURNEYLENS_METRICS_PORT', hostOption: '--metrics-host / JOURNEYLENS_METRICS_HOST' });
  let stopping: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    setReadinessCheck: (name, check) => void checks.set(name, check),
    removeReadinessCheck: (name) => void checks.delete(name),
    readiness,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return (await Promise.race([Promise.resolve().then(check), timeout])) === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
