/**
 * Softnic ports. A port has a number (the P4 port the pipeline sees) and a way out; a port that
 * also produces traffic calls its `receive` callback with frames for the pipeline. Kinds:
 * - `memory`: in-process Buffer injection and capture (tests, deploy's host queues);
 * - `pcap`: frames read from a pcap file at start, egress written to a pcap file;
 * - `iface`: a live network interface through an AF_PACKET socket;
 * - `ethdev`: a DPDK ethdev, a vdev created from devargs (net_pcap, net_af_packet, net_tap...) or
 *   a device the EAL probed.
 */
import { ensureEal } from '../../host-runtime/lib/index';
import { NfpError } from '../../partitioner/errors';
import { requireFile } from '../../partitioner/files';
import { loadSoftnic, type NativeRawSocket } from './native';
import { PcapWriter, readPcap } from '../pcap';

/** Hands frames that arrived on a port to the pipeline. */
export type Receive = (frames: Buffer[]) => void;

export interface SoftnicPort {
  readonly id: number;
  /** A short description, e.g. `pcap:in.pcap`. */
  readonly describe: string;
  /** Starts the port; from now on it may call `receive`. */
  start(receive: Receive): Promise<void>;
  /** Called each time a pipeline is committed (a file port starts its replay on the first). */
  pipelineCommitted?(): void;
  /** Sends one frame out of the port (the port owns it afterwards). */
  send(frame: Buffer): void;
  close(): Promise<void>;
}

/** In-process port: frames in by `inject`, frames out collected in `sent`. */
export class MemoryPort implements SoftnicPort {
  readonly sent: Buffer[] = [];
  private receive: Receive | undefined;

  constructor(
    readonly id: number,
    private readonly onSend?: (frame: Buffer) => void,
  ) {}

  get describe(): string {
    return 'memory';
  }

  async start(receive: Receive): Promise<void> {
    this.receive = receive;
  }

  inject(frames: Buffer[]): void {
    if (!this.receive) throw new NfpError(`port ${this.id} is not started`);
    this.receive(frames);
  }

  send(frame: Buffer): void {
    if (this.onSend) this.onSend(frame);
    else this.sent.push(frame);
  }

  async close(): Promise<void> {
    this.receive = undefined;
  }
}

/** Output file of a pcap port: `x.pcap` → `x.out.pcap`. */
export function pcapOutputFile(input: string): string {
  return input.endsWith('.pcap') ? `${input.slice(0, -5)}.out.pcap` : `${input}.out.pcap`;
}

/** The files of a pcap port: frames replayed from `input` (when given), egress written to `output`. */
export interface PcapFiles {
  input?: string;
  output: string;
}

/**
 * The FILE part of `N@pcap:FILE`: `IN.pcap` (replayed; egress to `IN.out.pcap`), or
 * `rx=IN.pcap,tx=OUT.pcap` with either half optional (`tx=OUT.pcap` alone: an output-only port).
 * A named input must exist: it is checked here, before anything starts.
 */
export function parsePcapFiles(target: string): PcapFiles {
  if (!/^(rx|tx)=/.test(target)) {
    requireFile(target, PCAP_INPUT);
    return { input: target, output: pcapOutputFile(target) };
  }
  const kv = new Map<string, string>();
  for (const part of target.split(',')) {
    const m = /^(rx|tx)=(.+)$/.exec(part);
    if (!m || kv.has(m[1]))
      throw new NfpError(
        `bad pcap port files "${target}"`,
        'write FILE, rx=IN.pcap, tx=OUT.pcap or rx=IN.pcap,tx=OUT.pcap',
      );
    kv.set(m[1], m[2]);
  }
  const input = kv.get('rx');
  if (input) requireFile(input, PCAP_INPUT);
  return { input, output: kv.get('tx') ?? pcapOutputFile(input!) };
}

const PCAP_INPUT = { what: 'a pcap file to replay (or tx=OUT.pcap for an output-only port)' };

/**
 * A port backed by pcap files: replays `files.input` into the pipeline once the first pipeline is
 * committed, and writes every frame sent out of the port to `files.output`.
 */
export class PcapPort implements SoftnicPort {
  private writer: PcapWriter | undefined;
  /** Frames replayed from the input file. */
  replayed = 0;
  /** Frames written to the output file. */
  written = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly files: PcapFiles,
  ) {}

  get describe(): string {
    return this.files.input ? `pcap:${this.files.input}` : 'pcap (output only)';
  }

  private receive: Receive | undefined;
  private started = false;

  async start(receive: Receive): Promise<void> {
    this.receive = receive;
    this.writer = new PcapWriter(this.files.output);
  }

  /** Replays the input file once a pipeline exists, in batches, yielding to the event loop. */
  pipelineCommitted(): void {
    const receive = this.receive;
    if (this.started || !receive) return;
    this.started = true;
    const frames = this.files.input ? readPcap(this.files.input).map((r) => r.data) : [];
    this.done = (async () => {
      for (let i = 0; i < frames.length; i += 256) {
        if (!this.receive) return; // closed
        receive(frames.slice(i, i + 256));
        this.replayed += Math.min(256, frames.length - i);
        await new Promise((r) => setImmediate(r)); // keep gRPC responsive
      }
    })();
  }

  /** Resolves when the input file has been replayed. */
  replayDone(): Promise<void> {
    return this.done;
  }

  send(frame: Buffer): void {
    if (!this.writer) return;
    this.writer.write(frame);
    this.written++;
  }

  async close(): Promise<void> {
    this.receive = undefined;
    await this.done;
    this.writer?.close();
    this.writer = undefined;
  }
}

/**
 * A live interface through an AF_PACKET socket, polled every millisecond from the event loop
 * (up to 256 frames a poll). Meant for the stand-alone softnic and tests, not line rate.
 */
export class IfacePort implements SoftnicPort {
  private socket: NativeRawSocket | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly ifname: string,
  ) {}

  get describe(): string {
    return `iface:${this.ifname}`;
  }

  async start(receive: Receive): Promise<void> {
    const mod = loadSoftnic();
    try {
      this.socket = new mod.RawSocket(this.ifname);
    } catch (err) {
      throw new NfpError(`port ${this.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const poll = (): void => {
      const frames = this.socket?.recv(256) ?? [];
      if (frames.length) receive(frames);
      if (this.socket) this.timer = setTimeout(poll, frames.length ? 0 : 1);
    };
    this.timer = setTimeout(poll, 1);
  }

  send(frame: Buffer): void {
    this.socket?.send(frame);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.socket = undefined;
  }
}

/** A DPDK ethdev with one rx and one tx queue (engine/ethdev_port.cc). */
export interface NativeEthdevPort {
  /** The frames waiting now, at most `max`, copied out; never blocks. */
  recv(max?: number): Buffer[];
  /** False when the device did not take the frame (too long for one mbuf, queue full, closed). */
  send(frame: Buffer): boolean;
  /** Stops the device; a vdev the port created is closed and removed. */
  close(): void;
}

type EthdevPortCtor = new (devargs: string) => NativeEthdevPort;

/**
 * A DPDK ethdev: `devargs` is a vdev spec (`net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap`,
 * `net_af_packet0,iface=veth0`, `net_tap0,iface=tap0`) that the port creates and removes again,
 * or the name of a device the EAL already probed. The EAL is initialised once per process, shared
 * with the host runtime. Polled every millisecond from the event loop like IfacePort, from the
 * first pipeline commit on: until then frames wait in the device (a live device drops them when
 * its queue is full), so a net_pcap input file is not replayed into a switch with no pipeline.
 */
export class EthdevPort implements SoftnicPort {
  private dev: NativeEthdevPort | undefined;
  private receive: Receive | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Frames the device did not take. */
  txFailed = 0;

  constructor(
    readonly id: number,
    readonly devargs: string,
  ) {}

  get describe(): string {
    return `ethdev:${this.devargs}`;
  }

  async start(receive: Receive): Promise<void> {
    const ctor = (loadSoftnic() as { EthdevPort?: EthdevPortCtor }).EthdevPort;
    if (!ctor)
      throw new NfpError(
        `port ${this.id}: the softnic native engine was built without ethdev ports`,
        'run `npm run build:native`',
      );
    try {
      ensureEal();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new NfpError(`port ${this.id} (ethdev:${this.devargs}): ${msg}`);
    }
    try {
      this.dev = new ctor(this.devargs); // the native message names the devargs
    } catch (err) {
      throw new NfpError(`port ${this.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.receive = receive;
  }

  pipelineCommitted(): void {
    if (this.timer || !this.dev) return;
    const poll = (): void => {
      const frames = this.dev?.recv(256) ?? [];
      if (frames.length) this.receive?.(frames);
      if (this.dev) this.timer = setTimeout(poll, frames.length ? 0 : 1);
    };
    this.timer = setTimeout(poll, 1);
  }

  send(frame: Buffer): void {
    if (this.dev && !this.dev.send(frame)) this.txFailed++;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.receive = undefined;
    this.dev?.close();
    this.dev = undefined;
  }
}

/** Parses `N@pcap:FILE`, `N@iface:NAME` or `N@ethdev:DEVARGS` (the CLI's --port syntax). */
export function parsePortSpec(spec: string): {
  id: number;
  kind: 'pcap' | 'iface' | 'ethdev';
  target: string;
} {
  const m = /^(\d+)@(pcap|iface|ethdev):(.+)$/.exec(spec);
  if (!m)
    throw new NfpError(
      `bad port "${spec}"`,
      'write N@pcap:FILE, N@iface:NAME or N@ethdev:DEVARGS, e.g. 1@pcap:in.pcap or 2@ethdev:net_tap0,iface=tap0',
    );
  const id = Number(m[1]);
  if (id > 510)
    throw new NfpError(`bad port "${spec}": port numbers go from 0 to 510 (511 is the drop port)`);
  return { id, kind: m[2] as 'pcap' | 'iface' | 'ethdev', target: m[3] };
}
