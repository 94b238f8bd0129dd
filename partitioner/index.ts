/**
 * The partitioner's public API: load a service graph, partition it for a NIC profile into a
 * plan, and validate plans. See docs/graph-format.md for the format and the semantics.
 */
export { loadGraph, parseGraph } from './load';
export { partition, type PartitionOptions, type SolverChoice } from './partition';
export { profiles, resolveProfile } from './profiles';
export { validatePlan, PlanError } from './validate-plan';
export { CATALOGUE, NF_TYPES, hostCyclesFor, type CatalogueEntry, type NicCost } from './catalogue';
export { expandRange, intersectMatch, matchesPacket, type PacketFields, type TernaryEntry } from './match';
export { parseIp, parsePrefix, formatPrefix, prefixContains, prefixValue, type IpAddr } from './ip';
export { renderDot } from './dot';
export { renderSummary } from './summary';
export * from './errors';
export type * from './graph';
export type * from './plan';
export type * from './nf-config';
