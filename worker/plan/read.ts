import { layout } from '../store/layout';
import type { Store } from '../store/store';
import type { Plan } from './plan';

/**
 * A run's plan.json that cannot be used. Codes are stable:
 * - `PLAN_NOT_JSON`  the object is not JSON (or is cut short)
 * - `PLAN_INVALID`   it is JSON but not a plan: `problems` names each missing or invalid field
 * The message is one line: the store, the key, every problem, and what to do.
 */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(
    readonly code: 'PLAN_NOT_JSON' | 'PLAN_INVALID',
    message: string,
    /** Store key of the plan, e.g. runs/<runId>/plan.json. */
    readonly key: string,
    /** One entry per field: `missing x`, or `x: expected …, got …`. Empty for PLAN_NOT_JSON. */
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Invalid fields named in the message; the rest are counted ("and 3 more"). */
const MAX_LISTED = 8;

/**
 * The plan of run `runId`, checked: undefined when the store has no plan.json for it.
 * Throws StoreError `STORE_BAD_RUN_ID` for an unsafe run id (layout.ts), the store's own
 * StoreError when it cannot be read, and PlanError when it is not JSON or not a plan of this
 * run (each missing or invalid field named; fields beyond the ones checked are let through).
 */
export async function readPlan(store: Store, runId: string): Promise<Plan | undefined> {
  const key = layout.plan(runId);
  const body = await store.get(key);
  if (body === undefined) return undefined;
  const where = `${store.url}: ${key}`;
  const fix = 'it was not written by `loadfarm run` or was changed since: start the run again';
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new PlanError('PLAN_NOT_JSON', `${where} is not JSON (${err.message}); ${fix}`, key, [], { cause: err });
  }
  const problems = planProblems(value, runId);
  if (problems.length > 0) {
    const missing = problems.filter((p) => p.startsWith('missing ')).map((p) => p.slice('missing '.length));
    const invalid = problems.filter((p) => !p.startsWith('missing '));
    const parts = [
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
      ...invalid.slice(0, MAX_LISTED),
      ...(invalid.length > MAX_LISTED ? [`and ${invalid.length - MAX_LISTED} more`] : []),
    ];
    throw new PlanError('PLAN_INVALID', `${where} is not a usable plan: ${parts.join('; ')}; ${fix}`, key, problems);
  }
  return value as Plan;
}

/** Every missing or invalid field of a plan of run `runId`, as `missing x` or `x: expected …, got …`. */
export function planProblems(value: unknown, runId: string): string[] {
  const c = new Checker();
  if (!c.object('plan', value)) return c.problems;
  const plan = value as Record<string, unknown>;
  if (c.has(plan, 'v') && plan.v !== 1) c.bad('v', '1', plan.v);
  if (c.has(plan, 'runId') && plan.runId !== runId) c.bad('runId', `"${runId}" (the run it is stored under)`, plan.runId);
  for (const f of ['createdAt', 'seed', 'staggerMs', 'intervalMs', 'graceMs', 'loadMs', 'hardStopMs'] as const) c.count(plan, f);
  if (c.has(plan, 'scenario') && c.object('scenario', plan.scenario)) c.string(plan.scenario as Record<string, unknown>, 'name', 'scenario.');
  c.string(plan, 'target');
  if (c.has(plan, 'identities') && c.object('identities', plan.identities)) {
    const ids = plan.identities as Record<string, unknown>;
    c.count(ids, 'base', 'identities.');
    c.count(ids, 'stride', 'identities.');
  }
  if (c.has(plan, 'thresholds') && c.object('thresholds', plan.thresholds)) {
    for (const [metric, exprs] of Object.entries(plan.thresholds as Record<string, unknown>)) {
      if (!Array.isArray(exprs) || exprs.some((e) => typeof e !== 'string')) c.bad(`thresholds.${metric}`, 'a list of expressions', exprs);
    }
  }
  // Fields later versions added: checked when present, so older plans still read.
  if ('timeoutMs' in plan) c.count(plan, 'timeoutMs');
  if ('rawEvents' in plan && typeof plan.rawEvents !== 'boolean') c.bad('rawEvents', 'true or false', plan.rawEvents);
  if ('sourceIps' in plan && (!Array.isArray(plan.sourceIps) || plan.sourceIps.some((ip) => typeof ip !== 'string'))) {
    c.bad('sourceIps', 'a list of addresses', plan.sourceIps);
  }
  if ('params' in plan && c.object('params', plan.params)) {
    for (const [k, v] of Object.entries(plan.params as Record<string, unknown>)) if (typeof v !== 'string') c.bad(`params.${k}`, 'a string', v);
  }
  if ('httpConnections' in plan && plan.httpConnections !== null) c.count(plan, 'httpConnections');
  if (c.has(plan, 'workers')) {
    if (!Array.isArray(plan.workers) || plan.workers.length === 0) c.bad('workers', 'a list of at least one worker', plan.workers);
    else plan.workers.forEach((w: unknown, i: number) => workerProblems(c, w, i));
  }
  return c.problems;
}

function workerProblems(c: Checker, value: unknown, i: number): void {
  const at = `workers[${i}].`;
  if (!c.object(`workers[${i}]`, value)) return;
  const w = value as Record<string, unknown>;
  if (c.has(w, 'index', at) && w.index !== i) c.bad(`${at}index`, String(i), w.index);
  c.count(w, 'startOffsetMs', at);
  c.count(w, 'seed', at);
  if (c.has(w, 'identity', at) && c.object(`${at}identity`, w.identity)) {
    c.count(w.identity as Record<string, unknown>, 'first', `${at}identity.`);
    c.count(w.identity as Record<string, unknown>, 'count', `${at}identity.`);
  }
  if (!c.has(w, 'load', at) || !c.object(`${at}load`, w.load)) return;
  const load = w.load as Record<string, unknown>;
  const lat = `${at}load.`;
  if (load.model === 'closed') {
    for (const f of ['users', 'durationMs', 'rampUpMs'] as const) c.count(load, f, lat);
  } else if (load.model === 'open') {
    for (const f of ['index', 'of', 'arrivals'] as const) c.count(load, f, lat);
    if (c.has(load, 'maxUsers', lat) && load.maxUsers !== null) c.count(load, 'maxUsers', lat);
    if (c.has(load, 'phases', lat) && !Array.isArray(load.phases)) c.bad(`${lat}phases`, 'a list of phases', load.phases);
  } else {
    c.bad(`${lat}model`, '"open" or "closed"', load.model);
  }
}

/** Collects problems; each method reports and returns whether the field passed. */
class Checker {
  readonly problems: string[] = [];

  bad(field: string, expected: string, got: unknown): false {
    this.problems.push(`${field}: expected ${expected}, got ${shown(got)}`);
    return false;
  }

  has(o: Record<string, unknown>, field: string, at = ''): boolean {
    if (o[field] !== undefined) return true;
    this.problems.push(`missing ${at}${field}`);
    return false;
  }

  object(field: string, v: unknown): boolean {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? true : this.bad(field, 'an object', v);
  }

  /** A finite number >= 0. */
  count(o: Record<string, unknown>, field: string, at = ''): boolean {
    if (!this.has(o, field, at)) return false;
    const v = o[field];
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? true : this.bad(`${at}${field}`, 'a number >= 0', v);
  }

  string(o: Record<string, unknown>, field: string, at = ''): boolean {
    if (!this.has(o, field, at)) return false;
    return typeof o[field] === 'string' ? true : this.bad(`${at}${field}`, 'a string', o[field]);
  }
}

/** A value as the message shows it: JSON, cut at 40 characters. */
function shown(v: unknown): string {
  const text = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
