/** Shared set-up for the P4Runtime suites: a server with a MemoryDevice on loopback. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  MemoryDevice,
  P4RuntimeClient,
  P4RuntimeServer,
  p4infoFromJson,
  type ClientEvents,
  type P4Info,
  type P4RuntimeClientOptions,
  type P4RuntimeServerOptions,
} from '../../p4runtime';

export const fixtureP4Info: P4Info = p4infoFromJson(
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'tenant.p4info.json'), 'utf8')),
);

export interface Rig {
  server: P4RuntimeServer;
  device: MemoryDevice;
  clients: P4RuntimeClient[];
  client(opts?: Partial<P4RuntimeClientOptions>): P4RuntimeClient;
  stop(): Promise<void>;
}

export async function startRig(opts: Partial<P4RuntimeServerOptions> = {}): Promise<Rig> {
  const device = new MemoryDevice({ idleScanMs: 20 });
  const server = new P4RuntimeServer({ device, ...opts });
  await server.start();
  const clients: P4RuntimeClient[] = [];
  return {
    server,
    device,
    clients,
    client(o: Partial<P4RuntimeClientOptions> = {}): P4RuntimeClient {
      const c = new P4RuntimeClient({ address: server.address, reconnect: false, ...o });
      clients.push(c);
      return c;
    },
    async stop(): Promise<void> {
      for (const c of clients) c.close();
      await server.stop(200);
    },
  };
}

/** A connected primary client with the fixture pipeline committed. */
export async function primaryWithPipeline(
  rig: Rig,
  opts: Partial<P4RuntimeClientOptions> = {},
): Promise<P4RuntimeClient> {
  const c = rig.client({ electionId: 10, ...opts });
  await c.connect();
  await c.waitForPrimary();
  await c.setPipeline({ p4info: fixtureP4Info, deviceConfig: '{}', cookie: 7 });
  return c;
}

/** Resolves with the arguments of the client's next `event`. */
export function next<K extends keyof ClientEvents & string>(
  c: P4RuntimeClient,
  event: K,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    c.once(event, (...args: ClientEvents[K]) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** One unary call with a plain grpc-js client, so a test sees the response exactly as sent. */
export function rawUnary<Req, Res>(
  address: string,
  def: grpc.MethodDefinition<Req, Res>,
  req: Req,
): Promise<Res> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Res>((resolve, reject) => {
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}
