/**
 * Input files, checked before any work starts: every command (partition, deploy and its --traffic,
 * softnic pcap ports, nf build, state dump) calls `requireFile` on what it will read, so a missing
 * file reads the same everywhere and nothing has been partitioned or started when it is reported.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { MissingFileError } from './errors';

export interface RequiredFile {
  /** What the file is, for the hint: `a service graph`, `a pcap file`. */
  what: string;
  /** An example path that exists, for the hint. */
  example?: string;
  /** A folder is acceptable too (deploy takes a plan folder). */
  folder?: boolean;
}

/** Throws MissingFileError unless `path` exists and can be read (and is a file, unless `folder`). */
export function requireFile(path: string, req: RequiredFile): void {
  const hint = `give the path of ${req.what}${req.example ? `, e.g. ${req.example}` : ''}`;
  const fail = (why: string): never => {
    throw new MissingFileError(`cannot read ${path}: ${why}`, hint, path);
  };
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? `no such file${req.folder ? ' or folder' : ''}`
        : code === 'ENOTDIR'
          ? 'a part of the path is not a folder'
          : (err as Error).message,
    );
  }
  if (isDir && !req.folder) fail('it is a folder, not a file');
  try {
    accessSync(path, constants.R_OK);
  } catch {
    fail('permission denied');
  }
}
