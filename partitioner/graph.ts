/**
 * The service-graph model: what a validated `graph.yaml` (format v1) becomes in memory.
 * Loading and validation live in `partitioner/load.ts`; this file only names the shapes.
 */
import type { HeaderMatch, NfConfig, NfType, Prefix } from './nf-config';

/** A place in a user's file, 1-based, for error messages (`file:line:col`). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** The packets a tenant owns. Every present field must match; slices of tenants must not overlap. */
export interface TrafficSlice {
  ingressPort?: number;
  vlan?: number;
  dstPrefix?: Prefix;
  srcPrefix?: Prefix;
}

export interface NfInstance {
  /** Unique within its tenant. */
  name: string;
  type: NfType;
  config: NfConfig;
  /** Forces a placement; absent lets the partitioner decide. */
  pin?: 'nic' | 'host';
  loc: SourceLocation;
}

/** Node names an edge may use besides NF names. */
export const ENTRY = 'entry';
export const EXIT = 'exit';
export const DROP = 'drop';

/**
 * An edge of a tenant's graph. A node's out-edges are tried in file order: header-predicate
 * edges (`when`) first-match, or dynamic verdict edges (`verdict`) chosen by the NF at run time,
 * never both kinds on one node. An edge with neither is the node's default.
 */
export interface Edge {
  from: string;
  to: string;
  when?: HeaderMatch;
  verdict?: string;
  /** Relative traffic share among the node's out-edges; default 1. */
  share: number;
  /** Position among all edges of the tenant, 0-based, in file order. */
  index: number;
  loc: SourceLocation;
}

export interface Tenant {
  name: string;
  /** 1-based tenant id; carried in the NSH context header. */
  id: number;
  slice: TrafficSlice;
  /** CPU weight for fair sharing on the host. */
  weight: number;
  rateLimit?: { bitsPerSecond: number; burstBytes: number };
  /** Wire port where `exit` forwards. */
  egressPort: number;
  /** Share of all traffic that belongs to this tenant; default equal across tenants. */
  trafficShare: number;
  /** Isolation backend for the tenant's host NFs. */
  isolation: 'sfi' | 'mpk' | 'none' | 'process';
  /**
   * How its sandboxed NFs reach packets (docs/isolation.md): `shared` (absent: the default), the
   * tenant's packets live in its domain's memory and NFs work on them in place; `windows`, each
   * packet is copied in per call, limited to the regions the NF declares readable.
   */
  packetAccess?: PacketAccess;
  nfs: NfInstance[];
  edges: Edge[];
  loc: SourceLocation;
}

export type PacketAccess = 'shared' | 'windows';

export interface ServiceGraph {
  version: 1;
  /** The file it was loaded from, as given by the user. */
  file: string;
  tenants: Tenant[];
}
