/**
 * Installs nfp's NIC artifacts (P4Info, BMv2 JSON, entries.json) straight into a SoftnicDevice,
 * without gRPC: benchmarks and tests use it; deploy goes through P4Runtime instead.
 */
import { DeviceError } from '../../p4runtime/device';
import type { P4Info } from '../../p4runtime/messages';
import { Atomicity } from '../../p4runtime/messages';
import { P4Schema } from '../../p4runtime/schema';
import { entriesToUpdates, type NicEntries } from '../../p4';
import type { SoftnicDevice } from './device';

/** Verifies and commits the pipeline, then writes every entry; throws DeviceError on the first failure. */
export async function installArtifacts(
  device: SoftnicDevice,
  a: { p4info: P4Info; bmv2: unknown; entries: NicEntries },
): Promise<void> {
  const config = {
    p4info: a.p4info,
    schema: new P4Schema(a.p4info),
    deviceConfig: Buffer.from(typeof a.bmv2 === 'string' ? a.bmv2 : JSON.stringify(a.bmv2)),
  };
  await device.verifyPipeline(config);
  await device.commitPipeline(config, false);
  const updates = entriesToUpdates(a.entries);
  const results = await device.write(updates, Atomicity.ROLLBACK_ON_ERROR);
  const i = results.findIndex((r) => r !== undefined);
  if (i >= 0) {
    const e = results[i] as DeviceError;
    const what = a.entries.tableEntries[i]?.comment ?? `meter entry ${i - a.entries.tableEntries.length}`;
    throw new DeviceError(e.code, `entry ${i} (${what}): ${e.message}`);
  }
}
