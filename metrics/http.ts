/**
 * A small HTTP server for scrapes and probes: fixed GET routes, each answering with a status, a
 * content type and a body. Used by `nfp deploy --metrics` and by `nfp agent` (health, readiness,
 * metrics, status).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NfpError } from '../partitioner/errors';

export interface HttpAnswer {
  status: number;
  type: string;
  body: string;
}

export type Routes = Record<string, () => Promise<HttpAnswer> | HttpAnswer>;

export interface HttpEndpoint {
  /** `host:port` actually listened on (port 0 is resolved). */
  address: string;
  close(): Promise<void>;
}

/** `HOST:PORT`, `:PORT` (all interfaces) or `PORT`; `[::1]:PORT` for IPv6. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const t = text.trim();
  const m = /^(\d+)$/.exec(t) ?? /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t) ?? /^([^:[\]]*):(\d+)$/.exec(t);
  const port = m ? Number(m[m.length - 1]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new NfpError(
      `"${text}" is not a listen address`,
      'give HOST:PORT (127.0.0.1:9464), :PORT for every interface, or PORT',
    );
  }
  return { host: (m.length === 3 && m[1]) || '0.0.0.0', port };
}

export function text(status: number, body: string): HttpAnswer {
  return { status, type: 'text/plain; charset=utf-8', body };
}

export function json(status: number, value: unknown): HttpAnswer {
  return { status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` };
}

/** Starts serving `routes`; resolves once listening, rejects with an NfpError if it cannot. */
export async function serveHttp(address: string, routes: Routes): Promise<HttpEndpoint> {
  const { host, port } = parseListenAddress(address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[path];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (!route) {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`no such endpoint; try ${Object.keys(routes).join(', ')}\n`);
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (a) =>
          res.writeHead(a.status, { 'Content-Type': a.type }).end(req.method === 'HEAD' ? undefined : a.body),
        (err: unknown) =>
          res
            .writeHead(500, { 'Content-Type': 'text/plain' })
            .end(`${err instanceof Error ? err.message : String(err)}\n`),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new NfpError(
          `cannot listen on ${address}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
          'pick another address (port 0 picks a free port)',
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
