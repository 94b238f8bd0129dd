// `nfp deploy --metrics ADDR`: the built CLI serves Prometheus metrics while it runs; a scrape
// mid-run sees every tenant, at most what the final report (--json) counts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeployReport } from '../../deploy';
import { parseExposition, valueOf } from './exposition';

const built = existsSync('dist/cli/commands/deploy.js');
if (!built) console.warn('metrics cli.test: skipping: dist/ is not built (run `npm run build:ts`)');

describe.skipIf(!built)('nfp deploy --metrics', () => {
  it('serves the metrics of the running deployment', async () => {
    const p = spawn(
      process.execPath,
      [
        'bin/run.js',
        'deploy',
        'examples/multi-tenant.yaml',
        '--duration',
        '6',
        '--isolation',
        'none',
        '--metrics',
        '127.0.0.1:0',
        '--json',
      ],
      { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      p.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /metrics on http:\/\/(\S+)\/metrics/.exec(stderr);
        if (m) resolve(m[1]);
      });
      p.once('exit', () => reject(new Error(`deploy exited early: ${stderr}`)));
    });
    // Wait until traffic flows, then scrape.
    let samples = parseExposition(await (await fetch(`http://${address}/metrics`)).text());
    for (let i = 0; i < 50 && !samples.some((s) => s.name === 'nfp_tenant_packets_total'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      samples = parseExposition(await (await fetch(`http://${address}/metrics`)).text());
    }
    const code = await new Promise<number | null>((resolve) => p.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as DeployReport;
    for (const t of report.tenants) {
      const live = valueOf(samples, 'nfp_tenant_packets_total', { tenant: t.name });
      expect(live).toBeGreaterThan(0);
      expect(live).toBeLessThanOrEqual(t.input);
    }
    expect(valueOf(samples, 'nfp_deployment_info', { target: 'softnic' })).toBe(1);
    // Once deploy exits, nothing listens any more.
    await expect(fetch(`http://${address}/metrics`)).rejects.toThrow();
  }, 90_000);
});
