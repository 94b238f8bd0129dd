/**
 * Checks a plan.json (or any value) against schemas/plan.schema.json, plus the cross-references
 * a schema cannot express (ids that must point at existing NFs and paths).
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { Plan } from './plan';
import { NfpError } from './errors';
import planSchema from '../schemas/plan.schema.json';

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(planSchema);
  return validator;
}

export class PlanError extends NfpError {
  constructor(readonly problems: string[]) {
    super(`invalid plan:\n${problems.map((p) => `  ${p}`).join('\n')}`, 'regenerate it with `nfp partition`');
  }
}

export function validatePlan(plan: unknown): Plan {
  const validate = compiled();
  if (!validate(plan)) {
    const problems = (validate.errors ?? [])
      .slice(0, 20)
      .map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new PlanError(problems);
  }
  const p = plan as Plan;
  const problems: string[] = [];
  const nfIds = new Set(p.nfs.map((n) => n.id));
  const pathIds = new Set(p.paths.map((x) => x.id));
  const tenantIds = new Set(p.tenants.map((t) => t.id));
  p.nfs.forEach((n, i) => {
    if (n.id !== i) problems.push(`/nfs/${i}/id: must equal its index ${i}`);
    if (!tenantIds.has(n.tenant)) problems.push(`/nfs/${i}/tenant: no tenant ${n.tenant}`);
  });
  p.paths.forEach((x, i) => {
    x.hops.forEach((h, j) => {
      if (!nfIds.has(h.nf)) problems.push(`/paths/${i}/hops/${j}/nf: no NF ${h.nf}`);
      for (const [v, id] of Object.entries(h.branches ?? {})) {
        if (!pathIds.has(id)) problems.push(`/paths/${i}/hops/${j}/branches/${v}: no path ${id}`);
      }
    });
    if (x.branchOf && !pathIds.has(x.branchOf.path))
      problems.push(`/paths/${i}/branchOf/path: no path ${x.branchOf.path}`);
  });
  p.pathRules.forEach((r, i) => {
    if (!pathIds.has(r.path)) problems.push(`/pathRules/${i}/path: no path ${r.path}`);
  });
  p.queues.forEach((q, i) =>
    q.paths.forEach((id, j) => {
      if (!pathIds.has(id)) problems.push(`/queues/${i}/paths/${j}: no path ${id}`);
    }),
  );
  if (problems.length > 0) throw new PlanError(problems);
  return p;
}
