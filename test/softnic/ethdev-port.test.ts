/**
 * `N@ethdev:DEVARGS` ports: the softnic, started through the same code as `nfp softnic`, with two
 * DPDK net_pcap vdevs as wire ports. A pipeline pushed over P4Runtime processes the frames each
 * vdev reads from its rx_pcap; what the vdevs write to their tx_pcap files is compared, packet for
 * packet, with the same frames run through the engine directly (SoftnicDevice.inject) under the
 * same pipeline. Bad devargs are refused naming the port and the devargs, also by the CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { P4RuntimeClient } from '../../p4runtime/client';
import { p4infoFromJson } from '../../p4runtime/proto';
import { insert } from '../../p4runtime/updates';
import { loadSoftnic, type NativeOutcome } from '../../targets/softnic/native';
import { PcapWriter, readPcap } from '../../targets/pcap';
import { parsePortSpec } from '../../targets/softnic/ports';
import { startSoftnic, type SoftnicInstance } from '../../targets/softnic/serve';
import { bits, fixture, ipBits, l2l3Engine, macBits } from './helpers';
import { ethernet, parsePacket, udpPacket } from './packets';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'nfp-softnic-ethdev-'));
const running: SoftnicInstance[] = [];
const tag = `t${process.pid % 100000}`; // vdev names are per process, but keep them distinct anyway

const canVeth = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['link', 'show'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!canVeth)
  console.warn('softnic ethdev net_af_packet test skipped: needs root and iproute2 for veth pairs');
const pairs = [0, 1].map((i) => ({ inner: `${tag}e${i}`, outer: `${tag}f${i}` }));

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

afterAll(async () => {
  for (const sn of running) await sn.stop().catch(() => undefined);
  if (canVeth)
    for (const p of pairs) {
      try {
        ip('link', 'del', p.inner); // deleting one end removes the pair
      } catch {
        // not created, or already gone
      }
    }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The L2/L3 fixture with default actions that forward: route → set_nhop(port 1, 0a:0b:0c:0d:0e:0f)
 * and smac → set_smac(02:aa:bb:cc:dd:ee). A pcap-backed port replays its file as soon as the first
 * pipeline is committed, before any entry could be written, so the forwarding is in the program.
 */
function forwardingProgram(): string {
  const j = JSON.parse(fixture('l2l3.json')) as {
    actions: Array<{ id: number; name: string }>;
    pipelines: Array<{ tables: Array<{ name: string; default_entry: Record<string, unknown> }> }>;
  };
  const action = (name: string): number => j.actions.find((a) => a.name === name)!.id;
  for (const p of j.pipelines)
    for (const t of p.tables) {
      if (t.name === 'MyIngress.route')
        t.default_entry = {
          action_id: action('MyIngress.set_nhop'),
          action_const: false,
          action_data: ['0x1', '0x0a0b0c0d0e0f'],
          action_entry_const: false,
        };
      if (t.name === 'MyEgress.smac')
        t.default_entry = {
          action_id: action('MyEgress.set_smac'),
          action_const: false,
          action_data: ['0x02aabbccddee'],
          action_entry_const: false,
        };
    }
  return JSON.stringify(j);
}

async function pushPipeline(address: string, deviceConfig: string): Promise<void> {
  const client = new P4RuntimeClient({ address, electionId: 1, reconnect: false });
  try {
    await client.connect();
    await client.waitForPrimary();
    await client.setPipeline({
      p4info: p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json'))),
      deviceConfig,
    });
  } finally {
    client.close();
  }
}

/** A frame that says where it came from: `in<port>-<n>` right after the Ethernet/IPv4/UDP headers. */
function marked(port: number, n: number): Buffer[] {
  const id = (k: number): Buffer => Buffer.from(`in${port}-${n + k};`);
  return [
    udpPacket({ src: '192.0.2.1', dst: `10.${port}.0.${n}`, ttl: 9, payload: id(0) }), // routed to 1
    Buffer.concat([ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:09', 0x0806), id(1), Buffer.alloc(28)]), // not IP: port 0
    udpPacket({ src: '192.0.2.2', dst: '198.51.100.7', ttl: 64, payload: id(2) }),
    Buffer.concat([ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x894f), id(3), Buffer.alloc(40)]), // NSH on the wire: dropped
  ];
}

function origin(frame: Buffer): string {
  const m = /in\d+-\d+;/.exec(frame.toString('latin1'));
  return m ? m[0] : '?';
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('softnic ethdev ports', () => {
  it('parses N@ethdev:DEVARGS, keeping the commas of the devargs', () => {
    expect(parsePortSpec('3@ethdev:net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap')).toEqual({
      id: 3,
      kind: 'ethdev',
      target: 'net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap',
    });
    expect(() => parsePortSpec('3@ethdev:')).toThrow('bad port "3@ethdev:"');
  });

  it('forwards net_pcap frames packet for packet as the engine does', async () => {
    const inputs = [0, 1].map((p) => {
      const frames: Buffer[] = [];
      for (let n = 0; n < 120; n += 4) frames.push(...marked(p, n));
      const file = join(dir, `in${p}.pcap`);
      const w = new PcapWriter(file);
      for (const f of frames) w.write(f);
      w.close();
      return { frames, file };
    });
    const program = forwardingProgram();

    // Reference: the same pipeline on a softnic with no ports, frames injected directly.
    const ref = await startSoftnic({ grpc: '127.0.0.1:0' });
    running.push(ref);
    await pushPipeline(ref.address, program);
    const expected: NativeOutcome[][] = inputs.map((inp, p) => ref.device.inject(p, inp.frames));
    await ref.stop();
    const want = (out: number, from: number): Buffer[] =>
      expected[from].flatMap((o) => ('port' in o && o.port === out ? [Buffer.from(o.data)] : []));
    // The check means something only if frames go both ways, hairpin, and are dropped.
    for (const [out, from] of [
      [1, 0],
      [0, 0],
      [1, 1],
      [0, 1],
    ])
      expect(want(out, from).length).toBeGreaterThan(0);
    const dropped = expected.flat().filter((o) => 'drop' in o).length;
    expect(dropped).toBeGreaterThan(0);

    const outFile = (p: number): string => join(dir, `out${p}.pcap`);
    const sn = await startSoftnic({
      grpc: '127.0.0.1:0',
      ports: [0, 1].map(
        (p) => `${p}@ethdev:net_pcap_${tag}_${p},rx_pcap=${inputs[p].file},tx_pcap=${outFile(p)}`,
      ),
    });
    running.push(sn);
    expect(sn.ports.map((p) => p.describe)).toEqual([
      `ethdev:net_pcap_${tag}_0,rx_pcap=${inputs[0].file},tx_pcap=${outFile(0)}`,
      `ethdev:net_pcap_${tag}_1,rx_pcap=${inputs[1].file},tx_pcap=${outFile(1)}`,
    ]);
    await pushPipeline(sn.address, program);
    const total = inputs[0].frames.length + inputs[1].frames.length;
    const sent = total - dropped;
    const txSum = (): number => Object.values(sn.device.getStats().tx).reduce((a, b) => a + b, 0);
    await until(() => txSum() === sent);
    const stats = await sn.stop(); // removes the vdevs, which closes their pcap files
    expect(stats.rx).toEqual({ 0: inputs[0].frames.length, 1: inputs[1].frames.length });
    expect(stats.drops.ingress + stats.drops.egress).toBe(dropped);
    expect(stats.drops.noPipeline).toBe(0);

    for (const out of [0, 1]) {
      const got = readPcap(outFile(out)).map((r) => r.data);
      expect(got.length).toBe(want(out, 0).length + want(out, 1).length);
      // Each input's frames keep their order on each output; the two inputs interleave freely.
      for (const from of [0, 1]) {
        const mine = got.filter((f) => origin(f).startsWith(`in${from}-`));
        expect(mine.map(origin)).toEqual(want(out, from).map(origin));
        expect(mine).toEqual(want(out, from));
      }
    }
    // And the processing is the pipeline's: rewritten MACs, TTL decremented, checksum updated.
    const routed = readPcap(outFile(1)).map((r) => parsePacket(r.data));
    expect(routed.length).toBeGreaterThan(0);
    for (const p of routed) {
      expect(p.dstMac).toBe('0a:0b:0c:0d:0e:0f');
      expect(p.srcMac).toBe('02:aa:bb:cc:dd:ee');
      expect(p.ipv4?.checksumOk).toBe(true);
      expect([8, 63]).toContain(p.ipv4?.ttl);
    }
  });

  it.skipIf(!canVeth)('forwards between veth pairs through net_af_packet ports, with entries', async () => {
    for (const p of pairs) {
      ip('link', 'add', p.inner, 'type', 'veth', 'peer', 'name', p.outer);
      for (const n of [p.inner, p.outer]) {
        execFileSync('sysctl', ['-qw', `net.ipv6.conf.${n}.disable_ipv6=1`], { stdio: 'ignore' });
        ip('link', 'set', n, 'up');
      }
    }
    const sn = await startSoftnic({
      grpc: '127.0.0.1:0',
      ports: pairs.map((p, i) => `${i + 1}@ethdev:net_af_packet_${tag}_${i},iface=${p.inner}`),
    });
    running.push(sn);
    const client = new P4RuntimeClient({ address: sn.address, electionId: 1, reconnect: false });
    const mod = loadSoftnic();
    const sender = new mod.RawSocket(pairs[0].outer);
    const receiver = new mod.RawSocket(pairs[1].outer);
    try {
      await client.connect();
      await client.waitForPrimary();
      await client.setPipeline({
        p4info: p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json'))),
        deviceConfig: fixture('l2l3.json'),
      });
      await client.write([
        insert(
          client.entities.tableEntry({
            table: 'route',
            match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
            action: 'set_nhop',
            params: { port: 2, dmac: '0a:0b:0c:0d:0e:0f' },
          }),
        ),
      ]);
      const payload = Buffer.from(`nfp-ethdev-${process.pid}`);
      const frame = udpPacket({ src: '192.0.2.1', dst: '10.1.1.1', ttl: 9, payload });
      let got: Buffer | undefined;
      for (let i = 0; i < 100 && !got; i++) {
        if (i % 20 === 0) sender.send(frame);
        await new Promise((r) => setTimeout(r, 20));
        got = receiver.recv(64).find((f) => f.includes(payload));
      }
      expect(got).toBeDefined();
      const ref = l2l3Engine();
      ref.tableAdd(
        'MyIngress.route',
        [{ value: ipBits('10.0.0.0'), prefixLen: 8 }],
        0,
        'MyIngress.set_nhop',
        [bits(2, 9), macBits('0a:0b:0c:0d:0e:0f')],
      );
      const [want] = ref.process(1, [frame]);
      expect(want).toEqual({ port: 2, data: got });
    } finally {
      client.close();
      sender.close();
      receiver.close();
      await sn.stop();
    }
  });

  it('refuses bad devargs naming the port and the devargs, and removes the vdevs it made', async () => {
    const good = `0@ethdev:net_pcap_${tag}_g,tx_pcap=${join(dir, 'g.pcap')}`;
    await expect(
      startSoftnic({ grpc: '127.0.0.1:0', ports: [good, '1@ethdev:net_nosuch0,x=1'] }),
    ).rejects.toThrow(
      'port 1: ethdev net_nosuch0,x=1: cannot create vdev net_nosuch0: no vdev driver matches the name',
    );
    const missing = join(dir, 'missing.pcap');
    await expect(
      startSoftnic({ grpc: '127.0.0.1:0', ports: [`2@ethdev:net_pcap_${tag}_m,rx_pcap=${missing}`] }),
    ).rejects.toThrow(
      new RegExp(`^port 2: ethdev net_pcap_${tag}_m,rx_pcap=${missing}: cannot create vdev .*${missing}`),
    );
    // Port 0's vdev was created before port 1 failed; it is gone again, so the name is free.
    const sn = await startSoftnic({ grpc: '127.0.0.1:0', ports: [good] });
    running.push(sn);
    expect(sn.ports[0].describe).toBe(good.slice(2));
    await sn.stop();
  });

  it('says the EAL is not initialised when the native port is used without it', () => {
    const addon = join(ROOT, 'host-runtime', 'build', 'Release', 'nfp_host.node');
    const script = `try { new (require(${JSON.stringify(addon)}).softnic.EthdevPort)('net_null0'); } catch (e) { console.log(e.message); }`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out).toContain('ethdev net_null0: the EAL is not initialised');
  });

  it('nfp softnic exits 1 with one error line for bad devargs', async () => {
    const script = `require('./cli/commands/softnic').default.run(${JSON.stringify([
      '--grpc',
      '127.0.0.1:0',
      '--port',
      '4@ethdev:net_nosuch0',
    ])}).catch(require('@oclif/core').handle)`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(code).toBe(1);
    expect(err).toContain('error: port 4: ethdev net_nosuch0: cannot create vdev net_nosuch0');
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });
});
