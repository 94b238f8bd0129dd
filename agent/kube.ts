/**
 * The node's plan from Kubernetes: the NodePlan object (group nfp.dev, version v1alpha1; the CRD
 * that `nfp k8s render` writes) named after the node, watched through the API server's list/watch
 * protocol: a GET of the object, then a streaming `?watch=true` from its resourceVersion, whose
 * ADDED/MODIFIED events carry the new plan (`spec.plan`); a closed stream is resumed, and a 410
 * Gone (the version is too old) starts over with a fresh GET.
 *
 * In a pod it authenticates with the service account's token and the cluster CA; `api` points it
 * elsewhere (tests run it against a small HTTP server speaking that protocol).
 */
import { readFileSync, existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { NfpError } from '../partitioner/errors';
import type { PlanSource, PlanVersion } from './plan-source';

export const NODEPLAN_GROUP = 'nfp.dev';
export const NODEPLAN_VERSION = 'v1alpha1';
export const NODEPLAN_PLURAL = 'nodeplans';
export const NODEPLAN_KIND = 'NodePlan';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeOptions {
  node: string;
  namespace: string;
  /** API server URL; absent: in-cluster (KUBERNETES_SERVICE_HOST/PORT). */
  api?: string;
  token?: string;
  ca?: Buffer;
  /** Wait before resuming a closed or failed watch, ms. */
  retryMs?: number;
}

interface KubeObject {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { node?: string; plan?: unknown };
}

export class KubePlanSource implements PlanSource {
  private closed = false;
  private req: ReturnType<typeof httpRequest> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: KubeOptions) {}

  /** In a pod: the API server from the environment, the service account's token and CA. */
  static fromEnvironment(o: { node: string; namespace: string; api?: string }): KubePlanSource {
    let api = o.api;
    if (!api) {
      const host = process.env.KUBERNETES_SERVICE_HOST;
      const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
      if (!host)
        throw new NfpError(
          '--kube: not in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)',
          'give --kube-api URL, or run the agent from the DaemonSet of `nfp k8s render`',
        );
      api = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }
    const token = existsSync(`${SA}/token`) ? readFileSync(`${SA}/token`, 'utf8').trim() : undefined;
    const ca = existsSync(`${SA}/ca.crt`) ? readFileSync(`${SA}/ca.crt`) : undefined;
    return new KubePlanSource({ ...o, api, token, ca });
  }

  describe(): string {
    return `${NODEPLAN_KIND} ${this.o.namespace}/${this.o.node} at ${this.o.api}`;
  }

  private path(watch?: string): string {
    const base = `/apis/${NODEPLAN_GROUP}/${NODEPLAN_VERSION}/namespaces/${encodeURIComponent(this.o.namespace)}/${NODEPLAN_PLURAL}`;
    if (watch === undefined) return `${base}/${encodeURIComponent(this.o.node)}`;
    const q = new URLSearchParams({
      watch: 'true',
      fieldSelector: `metadata.name=${this.o.node}`,
      resourceVersion: watch,
      allowWatchBookmarks: 'true',
    });
    return `${base}?${q.toString()}`;
  }

  private open(path: string, onResponse: (res: IncomingMessage) => void, onError: (e: Error) => void): void {
    const url = new URL(path, this.o.api);
    const opts: RequestOptions & { ca?: Buffer } = {
      method: 'GET',
      headers: {
        Accept: 'application/json',
        ...(this.o.token ? { Authorization: `Bearer ${this.o.token}` } : {}),
      },
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, onResponse);
    req.on('error', onError);
    req.end();
    this.req = req;
  }

  private toVersion(obj: KubeObject): PlanVersion {
    return {
      plan: obj.spec?.plan,
      version: obj.metadata?.resourceVersion ?? '',
      origin: `${NODEPLAN_KIND} ${this.o.namespace}/${obj.metadata?.name ?? this.o.node}`,
    };
  }

  watch(onPlan: (p: PlanVersion) => void, onError: (err: Error) => void): void {
    const retry = (what: () => void): void => {
      if (this.closed) return;
      this.timer = setTimeout(what, this.o.retryMs ?? 1000);
    };
    const failed = (e: Error): void => {
      if (this.closed) return;
      onError(new NfpError(`${this.describe()}: ${e.message}`));
    };
    const get = (): void => {
      this.open(
        this.path(),
        (res) => {
          readAll(res).then((body) => {
            if (res.statusCode === 404) {
              failed(new Error('no NodePlan for this node yet; waiting'));
              return retry(get);
            }
            if (res.statusCode !== 200) {
              failed(new Error(`GET answered ${res.statusCode}: ${body.slice(0, 200)}`));
              return retry(get);
            }
            let obj: KubeObject;
            try {
              obj = JSON.parse(body) as KubeObject;
            } catch {
              failed(new Error('GET answered with something other than JSON'));
              return retry(get);
            }
            onPlan(this.toVersion(obj));
            watchFrom(obj.metadata?.resourceVersion ?? '0');
          }, failed);
        },
        (e) => {
          failed(e);
          retry(get);
        },
      );
    };
    const watchFrom = (rv: string): void => {
      if (this.closed) return;
      let version = rv;
      this.open(
        this.path(rv),
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            failed(new Error(`watch answered ${res.statusCode}`));
            return retry(get);
          }
          let buf = '';
          let gone = false;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              let ev: { type?: string; object?: KubeObject & { code?: number } };
              try {
                ev = JSON.parse(line) as typeof ev;
              } catch {
                continue;
              }
              const obj = ev.object ?? {};
              if (obj.metadata?.resourceVersion) version = obj.metadata.resourceVersion;
              if (ev.type === 'ADDED' || ev.type === 'MODIFIED') onPlan(this.toVersion(obj));
              else if (ev.type === 'DELETED')
                failed(new Error('the NodePlan was deleted; the running plan stays'));
              else if (ev.type === 'ERROR') gone = obj.code === 410;
            }
          });
          res.on('end', () => (gone ? retry(get) : retry(() => watchFrom(version))));
          res.on('error', () => retry(() => watchFrom(version)));
        },
        (e) => {
          failed(e);
          retry(() => watchFrom(version));
        },
      );
    };
    get();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.req?.destroy();
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}
