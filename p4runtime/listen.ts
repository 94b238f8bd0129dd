/**
 * Listening for gRPC with TCP_NODELAY. grpc-js sets TCP_NODELAY on the sockets its clients open
 * but not on those its server accepts, so a server's small replies (response headers, message,
 * then trailers, often in separate writes) wait under Nagle's algorithm for the client's
 * delayed ACK: tens of milliseconds, now and then, on a one-update Write. This listener accepts
 * TCP connections itself, with Nagle off, and hands each to the grpc-js server through its
 * connection injector. Unix sockets (no Nagle there) go through grpc-js' own bind.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface Listening {
  port: number;
  /** Stops accepting and closes the connections this listener accepted. */
  close(): Promise<void>;
}

/** `host:port`, `[v6]:port` or `unix:PATH` as a host and port, or undefined for a unix path. */
export function parseTcpAddress(address: string): { host: string; port: number } | undefined {
  if (address.startsWith('unix:')) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) throw new Error(`cannot listen on "${address}": expected host:port, [ipv6]:port or unix:PATH`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

/** grpc-js' own bind (Nagle on for accepted TCP connections). */
export async function listenWithNagle(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials,
): Promise<Listening> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: async () => undefined };
}

export async function listenNoDelay(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials,
): Promise<Listening> {
  const tcp = parseTcpAddress(address);
  if (!tcp) return listenWithNagle(server, address, credentials);
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const net: NetServer = createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(tcp.port, tcp.host, () => {
      net.off('error', reject);
      resolve();
    });
  });
  const bound = net.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : tcp.port,
    async close(): Promise<void> {
      injector.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => net.close(() => resolve()));
    },
  };
}
