import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDevice, P4RUNTIME_API_VERSION, P4RuntimeClient, P4RuntimeServer } from '../../p4runtime';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasOpenssl)
  console.warn('p4runtime TLS tests skipped: openssl is not on PATH (needed to make test certificates)');

let dir = '';
const file = (n: string): Buffer => readFileSync(join(dir, n));

/** A CA, a server certificate for 127.0.0.1/localhost, and a client certificate. */
function makeCerts(): void {
  dir = mkdtempSync(join(tmpdir(), 'nfp-p4rt-tls-'));
  const ssl = (...a: string[]): void => void execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=nfp-test-ca',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      '-subj',
      `/CN=${who}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.crt`,
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
  }
}

const servers: P4RuntimeServer[] = [];
const clients: P4RuntimeClient[] = [];
beforeAll(() => {
  if (hasOpenssl) makeCerts();
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop(100);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function server(requireClientCert: boolean): Promise<P4RuntimeServer> {
  const s = new P4RuntimeServer({
    device: new MemoryDevice(),
    credentials: ServerCredentials.createSsl(
      requireClientCert ? file('ca.crt') : null,
      [{ private_key: file('server.key'), cert_chain: file('server.crt') }],
      requireClientCert,
    ),
  });
  await s.start();
  servers.push(s);
  return s;
}

function client(s: P4RuntimeServer, withCert: boolean): P4RuntimeClient {
  const c = new P4RuntimeClient({
    address: s.address,
    reconnect: false,
    timeoutMs: 3000,
    tls: {
      rootCert: file('ca.crt'),
      serverName: 'localhost', // the certificate's DNS name; an IP as TLS server name is deprecated
      ...(withCert ? { privateKey: file('client.key'), certChain: file('client.crt') } : {}),
    },
  });
  clients.push(c);
  return c;
}

describe.skipIf(!hasOpenssl)('TLS and mutual TLS', () => {
  it('TLS: the client verifies the server against the CA and arbitrates', async () => {
    const s = await server(false);
    const c = client(s, false);
    expect(await c.connect()).toBe(true);
    expect((await c.capabilities()).p4runtimeApiVersion).toBe(P4RUNTIME_API_VERSION);
  });

  it('mTLS: a client with a CA-signed certificate is served; one without is refused', async () => {
    const s = await server(true);
    expect(await client(s, true).connect()).toBe(true);
    await expect(client(s, false).capabilities()).rejects.toMatchObject({ code: 14 });
  });

  it('a plaintext client cannot talk to a TLS server', async () => {
    const s = await server(false);
    const c = new P4RuntimeClient({ address: s.address, reconnect: false, timeoutMs: 2000 });
    clients.push(c);
    await expect(c.capabilities()).rejects.toMatchObject({ code: 14 });
  });
});
