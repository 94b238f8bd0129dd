/**
 * The data path of a device that carries its own traffic (a running switch given by address, or
 * a NIC on production ports): nfp sends nothing and observes no packet; the NIC half stays
 * deployed while deploy waits, and the report has the device's counters only.
 */
import { emptyRun } from './account';
import type { DataPath, TrafficOptions, TrafficPacket, TrafficRun } from './target';

export class CarriedDataPath implements DataPath {
  /** Waits `seconds` (forever when not finite) or until aborted. */
  async run(_traffic: TrafficPacket[], seconds: number, opts: TrafficOptions = {}): Promise<TrafficRun> {
    const started = Date.now();
    await waitFor(seconds * 1000, opts.signal);
    return { ...emptyRun(), seconds: (Date.now() - started) / 1000 };
  }

  close(): void {}
}

function waitFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : setInterval(() => undefined, 1 << 30);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      clearInterval(timer);
      resolve();
    });
  });
}
