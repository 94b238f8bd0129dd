import { readFileSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { NfpCommand } from '../../base';
import { requireFile } from '../../../partitioner/files';
import { parseSnapshot } from '../../../host-runtime/lib/isolation';

export interface StateDumpResult {
  tenant: number;
  nfs: Array<{
    name: string;
    version: string;
    state: string;
    tables: Array<{
      name: string;
      keyBytes: number;
      valueBytes: number;
      entries: Array<{ key: string; value: string }>;
    }>;
  }>;
}

export default class StateDump extends NfpCommand<StateDumpResult> {
  static override summary = 'Show the NF state held in a snapshot file.';

  static override description = `Reads a snapshot (the NFPSNAP1 format of docs/isolation.md, written by the host runtime's
snapshot call) and prints each NF's private state and flow-table entries as hex.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> tenant1.nfpsnap',
    '<%= config.bin %> <%= command.id %> tenant1.nfpsnap --json',
  ];

  static override args = { file: Args.string({ description: 'snapshot file', required: true }) };
  static override flags = {
    limit: Flags.integer({
      description: 'entries to print per table (all with --json)',
      default: 20,
      min: 0,
    }),
  };

  async run(): Promise<StateDumpResult> {
    const { args, flags } = await this.parse(StateDump);
    requireFile(args.file, { what: 'a snapshot file (written by the host runtime)' });
    const buf = readFileSync(args.file);
    const snap = parseSnapshot(buf);
    const result: StateDumpResult = {
      tenant: snap.tenant,
      nfs: snap.nfs.map((nf) => ({
        name: nf.name,
        version: nf.version,
        state: nf.state.toString('hex'),
        tables: nf.tables.map((t) => ({
          name: t.name,
          keyBytes: t.keyBytes,
          valueBytes: t.valueBytes,
          entries: t.entries.map((e) => ({ key: e.key.toString('hex'), value: e.value.toString('hex') })),
        })),
      })),
    };
    this.log(`tenant ${result.tenant}: ${result.nfs.length} NF${result.nfs.length === 1 ? '' : 's'}`);
    for (const nf of result.nfs) {
      this.log(
        `  ${nf.name} ${nf.version}: ${nf.state.length / 2} bytes of state ${nf.state.slice(0, 64)}${nf.state.length > 64 ? '…' : ''}`,
      );
      for (const t of nf.tables) {
        this.log(
          `    table ${t.name} (key ${t.keyBytes} B, value ${t.valueBytes} B): ${t.entries.length} entries`,
        );
        for (const e of t.entries.slice(0, flags.limit)) this.log(`      ${e.key} -> ${e.value}`);
        if (t.entries.length > flags.limit) this.log(`      … ${t.entries.length - flags.limit} more`);
      }
    }
    return result;
  }
}
