// The console's HTTP server (docs/console-api.md): the page's files, a read-only JSON API over
// the console state, and the live stream of alerts as Server-Sent Events. node:http only, like
// the ops server: a dozen fixed routes do not need a framework.
//
// Security, in the order a request meets it: only GET and HEAD (there are no write endpoints);
// a bearer token on /api/* when one is set, compared in constant time; every response carries a
// strict Content-Security-Policy and nosniff (the page renders event data with textContent
// only, and these headers keep markup that slipped into a response from ever running); request
// ids are length-checked and never joined into a file path. Without a token the server binds
// only loopback (checkConsoleBinding).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { type Logger } from 'pino';
import { ErrorCodes, UserError } from '../errors.ts';
import { listenOn } from '../util/listen.ts';
import { type ConsoleChange, type ConsoleState, CONSOLE_API_VERSION } from './state.ts';
import { loadStaticFiles } from './static-files.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Longest id a lookup takes (after percent-decoding). */
export const MAX_ID_LENGTH = 256;
/** A stream whose socket holds more unsent bytes than this is closed (the page resumes with Last-Event-ID). */
export const MAX_UNSENT_BYTES = 1 << 20;
/** Shortest token accepted: a guessable token beyond loopback is no protection. */
export const MIN_TOKEN_LENGTH = 16;

const TOKEN_OPTION = '--ui-token (env JOURNEYLENS_UI_TOKEN, or a file named by JOURNEYLENS_UI_TOKEN_FILE)';

export interface ConsoleServerOptions {
  state: ConsoleState;
  host: string;
  port: number;
  token?: string | undefined;
  log: Logger;
  /** How often the stream sends the current minute (default 5 s). */
  summaryMs?: number;
  /** How often the stream sends a keep-alive comment (default 15 s). */
  pingMs?: number;
}

export interface ConsoleServer {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:9465 */
  readonly url: string;
  /** Open /api/events streams. */
  readonly streams: number;
  stop(): Promise<void>;
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * The console's binding rules, checked before anything starts: a token is required to listen
 * beyond loopback, and a token must not be guessable.
 */
export function checkConsoleBinding(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `${TOKEN_OPTION} must be at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}; generate one with \`openssl rand -hex 32\`.`, { exitCode: 2 });
  }
  if (token === undefined && !isLoopback(host)) {
    throw new UserError(
      ErrorCodes.CONFIG_INVALID,
      `--ui-host ${host} (env JOURNEYLENS_UI_HOST) reaches beyond this machine, so the console needs a token: set ${TOKEN_OPTION}, or bind 127.0.0.1.`,
      { exitCode: 2 },
    );
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

interface Stream {
  res: ServerResponse;
  close(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** Starts the server; resolves once it listens. A port in use is a UserError naming the option. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const { state, host, log } = options;
  checkConsoleBinding(host, options.token);
  const files = loadStaticFiles();
  const tokenDigest = options.token !== undefined ? digest(options.token) : undefined;
  const streams = new Set<Stream>();

  function authorized(req: IncomingMessage): boolean {
    if (tokenDigest === undefined) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // digests have one length, so the comparison takes the same time whatever was sent
    return m !== null && timingSafeEqual(digest(m[1]!), tokenDigest);
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), { 'cache-control': 'no-store', ...headers });
  }

  function id(raw: string): string {
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, 'bad_request', 'the id is not valid percent-encoding.');
    }
    if (value.length === 0 || value.length > MAX_ID_LENGTH) throw new HttpError(400, 'bad_request', `an id has 1 to ${MAX_ID_LENGTH} characters, this one has ${value.length}.`);
    return value;
  }

  function api(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname;
    if (path === '/api/model') return sendJson(res, 200, state.modelBody());
    if (path === '/api/mix') {
      const raw = url.searchParams.get('minutes') ?? '60';
      const minutes = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
      if (!(minutes >= 1 && minutes <= state.limits.mixMinutes)) throw new HttpError(400, 'bad_request', `minutes must be an integer from 1 to ${state.limits.mixMinutes}.`);
      return sendJson(res, 200, { bucketMs: 60_000, points: state.mix(minutes) });
    }
    if (path === '/api/events') return openStream(req, res);
    let m = /^\/api\/clusters\/([^/]+)\/prototype\.png$/.exec(path);
    if (m) {
      if (!/^-?\d{1,9}$/.test(m[1]!)) throw new HttpError(400, 'bad_request', 'a cluster id is an integer.');
      const png = state.prototypePng(Number(m[1]));
      if (!png) throw new HttpError(404, 'not_found', `the model has no cluster ${m[1]} with a prototype image.`);
      return send(res, 200, 'image/png', png, { 'cache-control': 'no-store' });
    }
    m = /^\/api\/sessions\/([^/]+)\/image\.png$/.exec(path);
    if (m) {
      const png = state.sessionImagePng(id(m[1]!));
      if (!png) throw new HttpError(404, 'not_found', 'no journey image for that session (unknown, out of the session index, or not drawn in this mode).');
      return send(res, 200, 'image/png', png, { 'cache-control': 'no-store' });
    }
    m = /^\/api\/sessions\/([^/]+)$/.exec(path);
    if (m) {
      const body = state.sessionBody(id(m[1]!));
      if (!body) throw new HttpError(404, 'not_found', `no such session among the last ${state.limits.sessions} sessions seen.`);
      return sendJson(res, 200, body);
    }
    m = /^\/api\/users\/([^/]+)$/.exec(path);
    if (m) {
      const body = state.userBody(id(m[1]!));
      if (!body) throw new HttpError(404, 'not_found', `no session of that user among the last ${state.limits.sessions} sessions seen.`);
      return sendJson(res, 200, body);
    }
    throw new HttpError(404, 'not_found', 'no such endpoint (docs/console-api.md lists them).');
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'the console is read-only: only GET and HEAD.' }, { allow: 'GET, HEAD' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://console.invalid');
    } catch {
      sendJson(res, 400, { error: 'bad_request', message: 'unreadable request URL.' });
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      const file = files.get(url.pathname);
      if (!file) {
        sendJson(res, 404, { error: 'not_found', message: 'no such page.' });
        return;
      }
      send(res, 200, file.contentType, file.body, { 'cache-control': 'no-cache' });
      return;
    }
    if (!authorized(req)) {
      sendJson(res, 401, { error: 'unauthorized', message: 'this console needs its token: Authorization: Bearer <token>.' }, { 'www-authenticate': 'Bearer realm="journeylens"' });
      return;
    }
    try {
      api(req, res, url);
    } catch (err) {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.code, message: err.message });
      else throw err;
    }
  }

  // ---------- the live stream ----------

  const frame = (event: string, data: unknown, eventId?: string): string => `${eventId !== undefined ? `id: ${eventId}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

  function write(s: Stream, text: string): void {
    if (s.res.destroyed) return;
    s.res.write(text);
    // a client that does not read (or reads slower than alerts come) is let go rather than
    // buffered for; it resumes from its Last-Event-ID
    if (s.res.writableLength > MAX_UNSENT_BYTES) {
      log.warn({ unsent: s.res.writableLength }, 'console: closing a stream that does not keep up');
      s.close();
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= state.limits.streams) throw new HttpError(503, 'too_many_streams', `at most ${state.limits.streams} live streams are served at once.`);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told otherwise
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    let unsubscribe = (): void => undefined;
    const s: Stream = {
      res,
      close: () => {
        streams.delete(s);
        unsubscribe();
        res.destroy();
      },
    };
    streams.add(s);
    res.on('close', () => s.close());

    const last = /^([0-9a-f]+)-(\d+)$/.exec(String(req.headers['last-event-id'] ?? ''));
    const resumeFrom = last && last[1] === state.bootId ? state.alertsAfter(Number(last[2])) : undefined;
    const first = resumeFrom ?? state.backlog(state.limits.backlog);
    let out = `retry: 2000\n\n${frame('hello', {
      apiVersion: CONSOLE_API_VERSION,
      mode: state.mode,
      modelVersion: state.card?.modelVersion ?? null,
      bootId: state.bootId,
      serverTime: Date.now(),
      resumed: resumeFrom !== undefined,
      backlog: first.length,
    })}`;
    for (const a of first) out += frame('alert', a.alert, `${state.bootId}-${a.seq}`);
    const point = state.currentPoint();
    out += frame('summary', { t: point.t, point });
    // everything after the catch-up comes live, in order, without a gap: subscribing and
    // writing happen in one turn of the event loop
    unsubscribe = state.subscribe((change: ConsoleChange) => {
      if (change.kind === 'alert') write(s, frame('alert', change.alert, `${state.bootId}-${change.seq}`));
      else write(s, frame('model', { modelVersion: change.modelVersion }));
    });
    write(s, out);
  }

  const summaryTimer = setInterval(() => {
    if (streams.size === 0) {
      state.tick();
      return;
    }
    const point = state.currentPoint();
    const text = frame('summary', { t: point.t, point });
    for (const s of [...streams]) write(s, text);
  }, options.summaryMs ?? 5_000);
  const pingTimer = setInterval(() => {
    for (const s of [...streams]) write(s, ': ping\n\n');
  }, options.pingMs ?? 15_000);
  summaryTimer.unref();
  pingTimer.unref();

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log.error({ err }, 'console: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error (see the server log).' });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5_000;

  let bound: { port: number; url: string };
  try {
    bound = await listenOn(server, host, options.port, { purpose: 'the console', portOption: '--ui-port / JOURNEYLENS_UI_PORT', hostOption: '--ui-host / JOURNEYLENS_UI_HOST' });
  } catch (err) {
    clearInterval(summaryTimer);
    clearInterval(pingTimer);
    throw err;
  }
  const { port, url } = bound;
  let stopping: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    get streams() {
      return streams.size;
    },
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        clearInterval(summaryTimer);
        clearInterval(pingTimer);
        for (const s of [...streams]) s.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
