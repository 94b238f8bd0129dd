/**
 * Exact placement as a MILP solved by HiGHS (npm `highs`, WebAssembly, loaded once).
 *
 *   minimise   Σ_p w_p (Σ_{h∈p} c_h (1 − y_h) + X Σ_{h∈p} s_{p,h})
 *   subject to s_{p,h} ≥ (1 − y_h) − (1 − y_{h−1}),  s ≥ 0   (a host segment starts at h)
 *              Σ_n cost_{n,r} y_n ≤ capacity_r               (NIC entries, meters, counters)
 *              Σ_{h∈p} stages_h y_h ≤ stageBudget           (pipeline depth on every path)
 *              y_n binary, fixed for host-only or pinned NFs
 *
 * A segment variable depends only on the pair (previous hop, hop), so pairs shared by several
 * paths share one variable with the summed weight.
 */
import highsLoader from 'highs';
import { InternalError, NfpError } from './errors';
import { COST_KEYS, evaluatePlacement, isFeasible, type PlacementProblem } from './placement';

type Highs = Awaited<ReturnType<typeof highsLoader>>;
let highs: Promise<Highs> | undefined;

/** HiGHS is a WebAssembly module; load it once per process and reuse it. */
function loadHighs(): Promise<Highs> {
  highs ??= highsLoader();
  return highs;
}

export interface SolveResult {
  nic: boolean[];
  value: number;
  optimal: boolean;
}

function num(x: number): string {
  // LP format wants plain decimals; tiny coefficients below HiGHS's tolerance are dropped anyway.
  return Number.isInteger(x) ? String(x) : x.toFixed(12).replace(/0+$/, '');
}

/** A linear expression over y variables plus a constant. */
interface Lin {
  c: number;
  y: Map<number, number>;
}

function hostExpr(p: PlacementProblem, i: number | undefined): Lin {
  // host = 1 − y; before the first hop the packet is on the NIC (host = 0).
  if (i === undefined) return { c: 0, y: new Map() };
  const f = p.items[i].fixed;
  if (f) return { c: f === 'host' ? 1 : 0, y: new Map() };
  return { c: 1, y: new Map([[i, -1]]) };
}

export function buildLp(p: PlacementProblem): { lp: string; constant: number; hasVars: boolean } {
  const objY = new Map<number, number>();
  const segs = new Map<string, { weight: number; expr: Lin }>();
  let constant = 0;
  const addY = (m: Map<number, number>, i: number, v: number): void => {
    m.set(i, (m.get(i) ?? 0) + v);
  };
  for (const path of p.paths) {
    if (path.weight === 0) continue;
    path.hops.forEach((i, h) => {
      const it = p.items[i];
      if (it.fixed === 'host') constant += path.weight * it.hostCycles;
      else if (!it.fixed) {
        constant += path.weight * it.hostCycles;
        addY(objY, i, -path.weight * it.hostCycles);
      }
      const prev = h > 0 ? path.hops[h - 1] : undefined;
      const a = hostExpr(p, i);
      const b = hostExpr(p, prev);
      const expr: Lin = { c: a.c - b.c, y: new Map(a.y) };
      for (const [k, v] of b.y) addY(expr.y, k, -v);
      for (const [k, v] of [...expr.y]) if (v === 0) expr.y.delete(k);
      const w = path.weight * p.crossingCycles;
      if (expr.y.size === 0) {
        constant += w * Math.max(0, expr.c);
        return;
      }
      const key = `${prev ?? '-'}:${i}`;
      const seg = segs.get(key);
      if (seg) seg.weight += w;
      else segs.set(key, { weight: w, expr });
    });
  }

  const free = p.items.map((it, i) => (it.fixed ? -1 : i)).filter((i) => i >= 0);
  const obj: string[] = [];
  for (const [i, v] of objY) if (v !== 0) obj.push(`${v < 0 ? '-' : '+'} ${num(Math.abs(v))} y${i}`);
  const rows: string[] = [];
  const segNames: string[] = [];
  let k = 0;
  for (const seg of segs.values()) {
    const s = `s${k++}`;
    segNames.push(s);
    obj.push(`+ ${num(seg.weight)} ${s}`);
    // s − Σ coef·y ≥ c
    const terms = [...seg.expr.y].map(([i, v]) => `${-v < 0 ? '-' : '+'} ${num(Math.abs(v))} y${i}`);
    rows.push(` seg${k}: ${s} ${terms.join(' ')} >= ${num(seg.expr.c)}`);
  }
  for (const key of COST_KEYS) {
    let rhs = p.capacity[key];
    const terms: string[] = [];
    p.items.forEach((it, i) => {
      if (it.cost[key] === 0) return;
      if (it.fixed === 'nic') rhs -= it.cost[key];
      else if (!it.fixed) terms.push(`+ ${it.cost[key]} y${i}`);
    });
    if (rhs < 0)
      throw new NfpError(
        `NFs fixed on the NIC (pinned, or NIC-only such as routers) need more ${key} than the profile has left`,
        'unpin some NFs or use a larger --target profile',
      );
    if (terms.length > 0) rows.push(` res_${key}: ${terms.join(' ')} <= ${rhs}`);
  }
  const stageRows = new Set<string>();
  for (const path of p.paths) {
    let rhs = p.stageBudget;
    const terms: string[] = [];
    for (const i of path.hops) {
      const it = p.items[i];
      if (it.cost.stages === 0) continue;
      if (it.fixed === 'nic') rhs -= it.cost.stages;
      else if (!it.fixed) terms.push(`+ ${it.cost.stages} y${i}`);
    }
    if (rhs < 0)
      throw new NfpError(
        'NFs fixed on the NIC (pinned, or NIC-only such as routers) on one path need more pipeline stages than the profile has',
        'unpin some NFs or use a larger --target profile',
      );
    const row = `${terms.join(' ')} <= ${rhs}`;
    if (terms.length > 0 && !stageRows.has(row)) stageRows.add(row);
  }
  [...stageRows].forEach((row, j) => rows.push(` stages${j}: ${row}`));

  const lp = [
    'Minimize',
    ` obj: ${obj.length > 0 ? obj.join(' ') : '0 y_dummy'}`,
    'Subject To',
    ...(rows.length > 0 ? rows : [' dummy: y_dummy >= 0']),
    'Bounds',
    ...free.map((i) => ` 0 <= y${i} <= 1`),
    ...segNames.map((s) => ` 0 <= ${s} <= 1`),
    ...(obj.length > 0 && rows.length > 0 ? [] : [' 0 <= y_dummy <= 1']),
    ...(free.length > 0 ? ['Binary', ` ${free.map((i) => `y${i}`).join(' ')}`] : []),
    'End',
  ].join('\n');
  return { lp, constant, hasVars: free.length > 0 };
}

/** Solves the placement exactly; `timeLimit` bounds HiGHS (the result is then marked non-optimal). */
export async function solveMilp(p: PlacementProblem, timeLimit = 60): Promise<SolveResult> {
  const { lp, hasVars } = buildLp(p);
  const nic = p.items.map((it) => it.fixed === 'nic');
  if (!hasVars) {
    if (!isFeasible(p, nic))
      throw new NfpError(
        'NFs fixed on the NIC (pinned, or NIC-only such as routers) exceed its resources',
        'unpin some NFs or use a larger --target profile',
      );
    return { nic, value: evaluatePlacement(p, nic).value, optimal: true };
  }
  const solver = await loadHighs();
  const res = solver.solve(lp, { output_flag: false, time_limit: timeLimit, mip_rel_gap: 1e-9 });
  if (res.Status === 'Infeasible') {
    throw new NfpError(
      'no placement fits the NIC: the NFs fixed on it (pinned, or NIC-only such as routers) exceed its resources',
      'unpin some NFs or use a larger --target profile',
    );
  }
  const haveSolution = res.Status === 'Optimal' || Object.values(res.Columns).some((c) => 'Primal' in c);
  if (!haveSolution) throw new InternalError('milp.solveMilp', `HiGHS ended with status ${res.Status}`);
  p.items.forEach((it, i) => {
    if (it.fixed) return;
    const col = res.Columns[`y${i}`] as { Primal?: number } | undefined;
    nic[i] = (col?.Primal ?? 0) > 0.5;
  });
  if (!isFeasible(p, nic))
    throw new InternalError('milp.solveMilp', 'HiGHS returned a placement that breaks a NIC constraint');
  return { nic, value: evaluatePlacement(p, nic).value, optimal: res.Status === 'Optimal' };
}
