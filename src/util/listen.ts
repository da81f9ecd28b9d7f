// Binding an HTTP server to the host and port a user configured, for the operations endpoint and
// the web console alike: a port in use, a host that is not this machine's, or a port the process
// may not bind is a config error naming the options to change, not a crash with a stack.
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ErrorCodes, UserError } from '../errors.ts';

const CONFIG_CODES = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND']);

export interface ListenFor {
  /** What listens, e.g. "metrics" or "the console". */
  purpose: string;
  /** The options that set the port and the host, e.g. "--metrics-port / JOURNEYLENS_METRICS_PORT". */
  portOption: string;
  hostOption: string;
}

/** Listens on host:port (0 = a free port) and resolves to the port bound and the URL to reach it. */
export async function listenOn(server: Server, host: string, port: number, what: ListenFor): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        CONFIG_CODES.has(err.code ?? '')
          ? new UserError(ErrorCodes.CONFIG_INVALID, `cannot listen on ${host}:${port} for ${what.purpose} (${err.code}): choose another ${what.portOption} or ${what.hostOption}.`, { cause: err, exitCode: 2 })
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  // a wildcard bind is reached on loopback from here; an IPv6 literal needs brackets in a URL
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { port: bound, url: `http://${urlHost}:${bound}` };
}
