/**
 * The NIC half of nfp: lower a plan to the NIC pipeline IR, emit every artifact from it, and check
 * that the artifacts agree before anyone writes them.
 *
 *   lowerPlan(plan)            → NicPipeline (the IR)
 *   emitNicArtifacts(plan, o)  → program.p4, program.pna.p4, bmv2.json, p4info.txtpb, p4info.bin,
 *                                entries.json (+ the typed P4Info, entries and IR)
 */
import type { NicProfile, Plan } from '../partitioner/plan';
import { codecs } from '../p4runtime/proto';
import type * as m from '../p4runtime/messages';
import {
  checkArchNames,
  checkEntries,
  compareIds,
  compareSignatures,
  idsFromP4Info,
  signatureFromBmv2,
  signatureFromP4,
  signatureFromP4Info,
} from './check';
import { type Bmv2Json, emitBmv2Json } from './emit/bmv2-json';
import { emitEntries, entriesText, type NicEntries } from './emit/entries';
import { emitP4Info, p4infoIds } from './emit/p4info';
import { emitPna, PNA_CONTROL } from './emit/pna';
import { toTextProto } from './emit/textproto';
import { emitV1Model } from './emit/v1model';
import type { NicPipeline } from './ir';
import { lowerPlan } from './lower';

export { lowerPlan } from './lower';
export type { NicPipeline } from './ir';
export type { NicEntries, TableEntryJson, MeterEntryJson, FieldMatchJson } from './emit/entries';
export type { Bmv2Json } from './emit/bmv2-json';
export { DROP_REASONS } from './headers';
export { entriesToUpdates } from './updates';

export interface NicArtifactFile {
  /** Relative to the NIC output folder (`DIR/nic/`). */
  path: string;
  contents: string | Uint8Array;
}

export interface NicArtifacts {
  files: NicArtifactFile[];
  pipeline: NicPipeline;
  p4info: m.P4Info;
  entries: NicEntries;
  bmv2: Bmv2Json;
}

export interface EmitOptions {
  /** Emit for this NIC profile instead of the plan's own (e.g. one without range matches). */
  profile?: NicProfile;
}

/** v1model intrinsic widths, for reading keys back from program.p4. */
const V1_INTRINSICS: Record<string, number> = { 'standard_metadata.ingress_port': 9 };

/** Checks every artifact against the others; throws InternalError naming the first mismatch. */
export function checkArtifacts(a: {
  pipeline: NicPipeline;
  programP4: string;
  programPna: string;
  bmv2: Bmv2Json;
  p4info: m.P4Info;
  entries: NicEntries;
}): void {
  const fromP4 = signatureFromP4(a.programP4, a.pipeline.control, V1_INTRINSICS);
  compareSignatures(fromP4, 'program.p4', signatureFromBmv2(a.bmv2), 'bmv2.json');
  compareSignatures(fromP4, 'program.p4', signatureFromP4Info(a.p4info), 'p4info');
  // PNA: its own control, with @name giving each object program.p4's name.
  const fromPna = signatureFromP4(a.programPna, PNA_CONTROL, V1_INTRINSICS);
  compareSignatures(fromP4, 'program.p4', fromPna, 'program.pna.p4');
  // Every @id of both sources is the P4Info's id, so any compiler assigns nfp's ids.
  const info = idsFromP4Info(a.p4info);
  compareIds(fromP4, 'program.p4', info, 'p4info');
  compareIds(fromPna, 'program.pna.p4', info, 'p4info');
  checkArchNames(a.pipeline);
  checkEntries(a.entries, a.p4info);
}

export function emitNicArtifacts(plan: Plan, opts: EmitOptions = {}): NicArtifacts {
  const pipeline = lowerPlan(opts.profile ? { ...plan, profile: opts.profile } : plan);
  const source = plan.graphFile || 'plan';
  const ids = p4infoIds(pipeline);
  const programP4 = emitV1Model(pipeline, source, ids);
  const programPna = emitPna(pipeline, source, ids);
  const bmv2 = emitBmv2Json(pipeline);
  const p4info = emitP4Info(pipeline, ids);
  const entries = emitEntries(pipeline, ids);
  checkArtifacts({ pipeline, programP4, programPna, bmv2, p4info, entries });
  const files: NicArtifactFile[] = [
    { path: 'program.p4', contents: programP4 },
    { path: 'program.pna.p4', contents: programPna },
    { path: 'bmv2.json', contents: `${JSON.stringify(bmv2, null, 1)}\n` },
    { path: 'p4info.txtpb', contents: toTextProto(codecs.P4Info.type, p4info) },
    { path: 'p4info.bin', contents: codecs.P4Info.encode(p4info) },
    { path: 'entries.json', contents: entriesText(entries) },
  ];
  return { files, pipeline, p4info, entries, bmv2 };
}
