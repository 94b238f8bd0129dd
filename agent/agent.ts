/**
 * The node agent: keeps its node's plan deployed on the local target, re-deploys when the plan
 * changes, and serves health, readiness, Prometheus metrics and its status over HTTP.
 *
 * A plan change is applied atomically, as deploy is: the new plan is validated and its NIC
 * artifacts and sandboxed NF modules are built while the old deployment keeps running; then the
 * old one is stopped and the new one deployed. If that deployment fails (deploy undoes itself),
 * the previous plan is deployed again, so the node ends up running either the new plan or the old
 * one, never half of either. Changes are applied one at a time; the latest one wins.
 */
import { emitNicArtifacts, type NicArtifacts } from '../p4';
import { validatePlan } from '../partitioner';
import { NfpError } from '../partitioner/errors';
import type { Plan } from '../partitioner/plan';
import { planArtifacts } from '../host-runtime/lib/isolation';
import type { IsolationBackend } from '../host-runtime/lib';
import { deploy, type DeployReport, type LiveDeployment, type TargetSpec } from '../deploy';
import { DeployMetrics } from '../metrics/metrics';
import { json, serveHttp, text, type HttpEndpoint } from '../metrics/http';
import { Counter, Gauge } from 'prom-client';
import type { PlanSource, PlanVersion } from './plan-source';

export interface AgentOptions {
  node: string;
  source: PlanSource;
  /** The local target; each deployment opens it anew. */
  target: TargetSpec;
  isolation?: IsolationBackend;
  workers?: number;
  /** HOST:PORT for /healthz, /readyz, /metrics and /status. */
  listen: string;
  /** Progress and problems, one line each. */
  log?: (line: string) => void;
}

/** What /status answers (and `nfp agent --json` returns when it stops). */
export interface AgentStatus {
  node: string;
  source: string;
  ready: boolean;
  /** The deployed plan's version and tenants, when one runs. */
  deployed?: { version: string; origin: string; tenants: string[]; since: string };
  /** The last plan that could not be deployed, and why. */
  lastError?: { version?: string; message: string; at: string };
  deploys: { ok: number; failed: number };
  /** The running deployment's report (per tenant and path accounting), when one runs. */
  report?: DeployReport;
}

interface Running {
  version: PlanVersion;
  plan: Plan;
  nic: NicArtifacts;
  abort: AbortController;
  /** Settles when the deployment has ended and torn down. */
  ended: Promise<void>;
  live?: LiveDeployment;
  since: Date;
}

interface Prepared {
  version: PlanVersion;
  plan: Plan;
  nic: NicArtifacts;
}

export class NodeAgent {
  private running: Running | undefined;
  private http: HttpEndpoint | undefined;
  private pending: PlanVersion | undefined;
  private applying: Promise<void> | undefined;
  private stopped = false;
  private lastError: AgentStatus['lastError'];
  private readonly deploys = { ok: 0, failed: 0 };
  private readonly metrics: DeployMetrics;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log ?? (() => undefined);
    this.metrics = new DeployMetrics(async () => this.running?.live?.report());
    const isReady = (): boolean => this.ready;
    const deploys = this.deploys;
    new Gauge({
      name: 'nfp_agent_ready',
      help: "1 when the node's plan is deployed and carrying traffic.",
      registers: [this.metrics.registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });
    new Counter({
      name: 'nfp_agent_deploys_total',
      help: 'Deployments of a plan by the agent, by result (ok, failed).',
      labelNames: ['result'],
      registers: [this.metrics.registry],
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, deploys.ok);
        this.inc({ result: 'failed' }, deploys.failed);
      },
    });
  }

  /** Ready: a plan is deployed and its traffic is being carried. */
  get ready(): boolean {
    return !!this.running?.live && !this.applying;
  }

  /** The address the HTTP endpoints listen on, once started. */
  get address(): string | undefined {
    return this.http?.address;
  }

  async start(): Promise<void> {
    this.http = await serveHttp(this.opts.listen, {
      '/healthz': () => text(200, 'ok\n'),
      '/readyz': () => (this.ready ? text(200, 'ready\n') : text(503, 'not ready\n')),
      '/metrics': async () => ({
        status: 200,
        type: this.metrics.contentType,
        body: await this.metrics.scrape(),
      }),
      '/status': async () => json(200, await this.status()),
    });
    this.log(
      `nfp agent ${this.opts.node}: serving /healthz /readyz /metrics /status on http://${this.http.address}`,
    );
    this.opts.source.watch(
      (v) => this.offer(v),
      (err) => {
        this.lastError = { message: err.message, at: new Date().toISOString() };
        this.log(`nfp agent: ${err.message}`);
      },
    );
  }

  async status(): Promise<AgentStatus> {
    const r = this.running;
    const out: AgentStatus = {
      node: this.opts.node,
      source: this.opts.source.describe(),
      ready: this.ready,
      deploys: { ...this.deploys },
    };
    if (r?.live) {
      out.deployed = {
        version: r.version.version,
        origin: r.version.origin,
        tenants: r.plan.tenants.map((t) => t.name),
        since: r.since.toISOString(),
      };
      try {
        out.report = await r.live.report();
      } catch {
        // Ended between the check and the read: no report this time.
      }
    }
    if (this.lastError) out.lastError = this.lastError;
    return out;
  }

  /** Resolves once every plan offered so far has been applied (or failed). */
  async settled(): Promise<void> {
    while (this.applying) await this.applying;
  }

  /** Stops the deployment and the endpoints: the pod's SIGTERM. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.source.close();
    await this.settled();
    await this.halt();
    await this.http?.close();
    this.http = undefined;
  }

  private offer(v: PlanVersion): void {
    if (this.stopped) return;
    this.pending = v;
    if (!this.applying) this.applying = this.drain().finally(() => (this.applying = undefined));
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      const v = this.pending;
      this.pending = undefined;
      if (v.version === this.running?.version.version) continue;
      await this.apply(v);
    }
  }

  /** Builds everything the plan needs before the running deployment is touched. */
  private async prepare(v: PlanVersion): Promise<Prepared> {
    const plan = validatePlan(v.plan);
    const nic = emitNicArtifacts(plan);
    await planArtifacts(plan, this.opts.isolation); // builds (or finds cached) sandboxed NFs
    return { version: v, plan, nic };
  }

  private async apply(v: PlanVersion): Promise<void> {
    let next: Prepared;
    try {
      next = await this.prepare(v);
    } catch (err) {
      this.fail(v, err, 'the running plan stays');
      return;
    }
    const previous = this.running && {
      version: this.running.version,
      plan: this.running.plan,
      nic: this.running.nic,
    };
    await this.halt();
    try {
      await this.launch(next);
      this.deploys.ok++;
      this.log(
        `nfp agent ${this.opts.node}: deployed ${v.origin} (${v.version}): ${next.plan.tenants.map((t) => t.name).join(', ')}`,
      );
    } catch (err) {
      this.fail(v, err, previous ? 'deploying the previous plan again' : 'no plan runs');
      if (previous && !this.stopped) {
        try {
          await this.launch(previous);
        } catch (again) {
          this.fail(previous.version, again, 'no plan runs');
        }
      }
    }
  }

  private fail(v: PlanVersion, err: unknown, then: string): void {
    this.deploys.failed++;
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { version: v.version, message, at: new Date().toISOString() };
    this.log(
      `nfp agent ${this.opts.node}: plan ${v.origin} (${v.version}) not deployed: ${message}; ${then}`,
    );
  }

  /** Deploys and resolves once traffic is carried; rejects (all undone) when deploy fails. */
  private launch(p: Prepared): Promise<void> {
    const abort = new AbortController();
    return new Promise<void>((resolve, reject) => {
      const running: Running = { ...p, abort, ended: Promise.resolve(), since: new Date() };
      running.ended = deploy(p.plan, p.nic, {
        target: this.opts.target,
        isolation: this.opts.isolation,
        workers: this.opts.workers,
        traffic: [],
        durationSeconds: Infinity,
        signal: abort.signal,
        onLive: (live) => {
          running.live = live;
          this.running = running;
          resolve();
        },
      }).then(
        () => {
          if (this.running === running && !abort.signal.aborted) {
            this.running = undefined;
            this.log(`nfp agent ${this.opts.node}: the deployment ended by itself`);
          }
        },
        (err: unknown) => {
          if (this.running === running) this.running = undefined;
          reject(err instanceof Error ? err : new NfpError(String(err)));
        },
      );
    });
  }

  /** Stops the running deployment and waits until it has torn down. */
  private async halt(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    r.abort.abort();
    await r.ended.catch(() => undefined);
  }
}
