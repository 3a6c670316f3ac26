import { parseDuration } from './duration';
import { unknownKeys, type KeySet } from './keys';
import { LIMITS, showLimit } from './limits';
import { parseThreshold } from './thresholds';
import type { FindSpec, ScenarioConfig } from './types';
import { dataProblems } from '../data/validate';
import { DECISION_TIMEOUT_MS, MAX_LADDER_STEPS, ladder, parseStep, searchBounds, searchLoadMs } from '../plan/search';

/** The shortest period of rolling reports. */
export const REPORT_EVERY_MIN_MS = 60_000;

const TOP_LEVEL = 'at the top level of the scenario, next to load';
const IN_LOAD = 'inside load';
const IN_PHASE = 'inside a phase of the open model (load.phases[i])';
const IN_CLOSED = "in the closed model (load: { users, duration, rampUp }), not with phases";
const IN_HTTP = 'inside http (http: { timeout, connections })';

/** The keys of every object of a scenario, and where keys people misplace belong. */
export const SCENARIO_KEYS = {
  top: {
    known: ['name', 'target', 'load', 'thresholds', 'user', 'flows', 'http', 'grace', 'data', 'reportEvery'],
    elsewhere: { find: IN_LOAD, phases: IN_LOAD, users: IN_LOAD, duration: IN_LOAD, rampUp: IN_LOAD, maxUsers: IN_LOAD, timeout: IN_HTTP, connections: IN_HTTP },
  },
  openLoad: {
    known: ['phases', 'maxUsers'],
    elsewhere: { grace: TOP_LEVEL, arrivalRate: IN_PHASE, rampTo: IN_PHASE, duration: IN_PHASE, users: IN_CLOSED, rampUp: IN_CLOSED, timeout: IN_HTTP },
  },
  closedLoad: {
    known: ['users', 'duration', 'rampUp', 'backoff'],
    elsewhere: {
      grace: TOP_LEVEL,
      maxUsers: 'with phases (the open model); the closed model runs exactly load.users users',
      arrivalRate: IN_PHASE,
      rampTo: IN_PHASE,
      timeout: IN_HTTP,
    },
  },
  phase: {
    known: ['name', 'duration', 'arrivalRate', 'rampTo'],
    elsewhere: { grace: TOP_LEVEL, maxUsers: 'inside load, next to phases', users: IN_CLOSED },
  },
  backoff: { known: ['min', 'max'] },
  find: {
    known: ['from', 'to', 'users', 'step', 'stepDuration', 'refine', 'maxUsers'],
    elsewhere: { duration: 'as find.stepDuration', phases: 'not with find (find is a load model of its own)', grace: TOP_LEVEL },
  },
  findUsers: { known: ['from', 'to', 'step'], elsewhere: { stepDuration: 'inside find', refine: 'inside find' } },
  threshold: { known: ['expr', 'abortOnFail', 'delayAbortEval'] },
  flow: { known: ['name', 'weight', 'user'], elsewhere: { grace: TOP_LEVEL } },
  http: { known: ['timeout', 'connections'], elsewhere: { grace: TOP_LEVEL } },
} satisfies Record<string, KeySet>;

/**
 * Checks a scenario and returns every problem found, one line each: `path: expected …, got …`,
 * or `path: unknown key — did you mean …?`. Durations, rates and user counts are bounded by
 * LIMITS. An empty list means the scenario can run. Never throws on any input.
 */
export function validateScenario(value: unknown): string[] {
  const problems: string[] = [];
  const bad = (path: string, expected: string, got: unknown) =>
    problems.push(`${path}: expected ${expected}, got ${show(got)}`);
  const keys = (obj: Record<string, unknown>, path: string, set: KeySet) => problems.push(...unknownKeys(obj, path, set));

  if (!isObject(value)) {
    bad('scenario', 'the object returned by defineScenario({...}) as the default export', value);
    return problems;
  }
  const s = value as Partial<ScenarioConfig> & Record<string, unknown>;
  keys(s, '', SCENARIO_KEYS.top);
  if (typeof s.name !== 'string' || s.name.trim() === '') bad('name', 'a non-empty string', s.name);
  if (s.target !== undefined) {
    const problem = targetProblem(s.target);
    if (problem) bad('target', problem, s.target);
  }
  checkLoad(s.load, bad, keys);
  checkJourney(s, bad, keys);
  if (s.thresholds !== undefined) checkThresholds(s.thresholds, bad, keys);
  if (s.reportEvery !== undefined) {
    const ms = parseDuration(s.reportEvery);
    if (ms === undefined || ms < REPORT_EVERY_MIN_MS || ms > LIMITS.loadMs) bad('reportEvery', `a duration like '1h', at least 1m and at most ${showLimit(LIMITS.loadMs)}`, s.reportEvery);
  }
  if (s.grace !== undefined) {
    const ms = parseDuration(s.grace);
    if (ms === undefined || ms > LIMITS.graceMs) bad('grace', `a duration like '10s', at most ${showLimit(LIMITS.graceMs)} (the longest grace)`, s.grace);
  }
  if (s.data !== undefined) problems.push(...dataProblems(s.data, show));
  if (s.http !== undefined) {
    if (!isObject(s.http)) bad('http', 'an object like { timeout: \'30s\' }', s.http);
    else {
      keys(s.http as Record<string, unknown>, 'http', SCENARIO_KEYS.http);
      if (s.http.timeout !== undefined && !durationIn(s.http.timeout, Number.MIN_VALUE, LIMITS.timeoutMs)) {
        bad('http.timeout', `a duration > 0 like '30s' (a number is seconds), at most ${showLimit(LIMITS.timeoutMs)} (the longest timeout)`, s.http.timeout);
      }
      if (s.http.connections !== undefined && !isInt(s.http.connections, 1)) bad('http.connections', 'a whole number >= 1', s.http.connections);
    }
  }
  return problems;
}

type Bad = (path: string, expected: string, got: unknown) => void;
type Keys = (obj: Record<string, unknown>, path: string, set: KeySet) => void;

const LONGEST_LOAD = `at most ${showLimit(LIMITS.loadMs)} (the longest load)`;
const RATE_LIMIT = `at most ${LIMITS.arrivalRate} (new users per second across the farm)`;
const USERS_LIMIT = `at most ${LIMITS.users} (users across the farm)`;

/** A number from `min` to `max`; what is wrong is said apart from the limit, which is named. */
function checkNumber(bad: Bad, path: string, v: unknown, o: { min: number; max: number; whole?: boolean; limit: string }) {
  const ok = o.whole ? isInt(v, o.min) : isNum(v, o.min);
  if (!ok) bad(path, o.whole ? `a whole number >= ${o.min}` : `a number >= ${o.min}`, v);
  else if ((v as number) > o.max) bad(path, `a number ${o.limit}`, v);
}

function checkLoad(load: unknown, bad: Bad, keys: Keys) {
  if (!isObject(load)) {
    bad('load', '{ phases: [...] } (open model) or { users, duration } (closed model)', load);
    return;
  }
  if ('find' in load) return checkFind(load, bad, keys);
  const hasPhases = 'phases' in load;
  const hasUsers = 'users' in load;
  if (hasPhases && hasUsers) {
    bad('load', 'either phases (open model) or users (closed model), not both', Object.keys(load));
    return;
  }
  if (hasPhases) {
    keys(load, 'load', SCENARIO_KEYS.openLoad);
    const phases = load.phases;
    if (!Array.isArray(phases) || phases.length === 0) bad('load.phases', 'a non-empty array of phases', phases);
    else {
      let totalMs = 0;
      phases.forEach((p, i) => {
        const at = `load.phases[${i}]`;
        if (!isObject(p)) return bad(at, '{ duration, arrivalRate, rampTo? }', p);
        keys(p, at, SCENARIO_KEYS.phase);
        if (p.name !== undefined && typeof p.name !== 'string') bad(`${at}.name`, 'a string', p.name);
        const ms = parseDuration(p.duration);
        if (ms === undefined || ms <= 0) bad(`${at}.duration`, "a duration > 0 like '30s', '2m' or 60", p.duration);
        else if (ms > LIMITS.loadMs) bad(`${at}.duration`, `a duration ${LONGEST_LOAD}`, p.duration);
        else totalMs += ms;
        checkNumber(bad, `${at}.arrivalRate`, p.arrivalRate, { min: 0, max: LIMITS.arrivalRate, limit: RATE_LIMIT });
        if (p.rampTo !== undefined) checkNumber(bad, `${at}.rampTo`, p.rampTo, { min: 0, max: LIMITS.arrivalRate, limit: RATE_LIMIT });
      });
      if (totalMs > LIMITS.loadMs) bad('load.phases', `phases lasting ${LONGEST_LOAD} in all`, `${showLimit(totalMs)} in all`);
    }
    if (load.maxUsers !== undefined) checkNumber(bad, 'load.maxUsers', load.maxUsers, { min: 1, max: LIMITS.users, whole: true, limit: USERS_LIMIT });
    return;
  }
  if (hasUsers) {
    keys(load, 'load', SCENARIO_KEYS.closedLoad);
    checkNumber(bad, 'load.users', load.users, { min: 1, max: LIMITS.users, whole: true, limit: USERS_LIMIT });
    const ms = parseDuration(load.duration);
    if (ms === undefined || ms <= 0) bad('load.duration', "a duration > 0 like '5m'", load.duration);
    else if (ms > LIMITS.loadMs) bad('load.duration', `a duration ${LONGEST_LOAD}`, load.duration);
    if (load.rampUp !== undefined) {
      const ramp = parseDuration(load.rampUp);
      if (ramp === undefined) bad('load.rampUp', "a duration like '30s'", load.rampUp);
      else if (ms !== undefined && ms > 0 && ramp > ms) bad('load.rampUp', `a duration no longer than load.duration (${showLimit(ms)})`, load.rampUp);
    }
    if (load.backoff !== undefined) checkBackoff(load.backoff, bad, keys);
    return;
  }
  bad('load', '{ phases: [...] } (open model) or { users, duration } (closed model)', load);
  // Say which keys were meant, when the model's own key is misspelt (`Users`, `phase`).
  keys(load, 'load', { known: [...SCENARIO_KEYS.openLoad.known, ...SCENARIO_KEYS.closedLoad.known], elsewhere: { grace: TOP_LEVEL } });
}

/** `load.backoff`: false, or { min?, max? } durations with min <= max, each bounded. */
function checkBackoff(backoff: unknown, bad: Bad, keys: Keys) {
  const expected = "false or { min: '1s', max: '30s' }";
  if (backoff === false) return;
  if (!isObject(backoff)) return bad('load.backoff', expected, backoff);
  keys(backoff, 'load.backoff', SCENARIO_KEYS.backoff);
  const ms: Record<string, number | undefined> = {};
  for (const key of ['min', 'max'] as const) {
    if (backoff[key] === undefined) continue;
    const v = parseDuration(backoff[key]);
    if (v === undefined) bad(`load.backoff.${key}`, "a duration like '1s'", backoff[key]);
    else if (v > LIMITS.backoffMs) bad(`load.backoff.${key}`, `a duration at most ${showLimit(LIMITS.backoffMs)} (the longest backoff)`, backoff[key]);
    else ms[key] = v;
  }
  if (ms.min !== undefined && ms.max !== undefined && ms.min > ms.max) bad('load.backoff.max', `a duration no shorter than load.backoff.min (${showLimit(ms.min)})`, backoff.max);
}

function checkJourney(s: Record<string, unknown>, bad: Bad, keys: Keys) {
  const hasUser = s.user !== undefined;
  const hasFlows = s.flows !== undefined;
  if (hasUser && hasFlows) return bad('user', 'either user or flows, not both', 'both');
  if (!hasUser && !hasFlows) return bad('user', 'an async function (u) => { … } or flows: [{ name, weight, user }]', undefined);
  if (hasUser && typeof s.user !== 'function') return bad('user', 'an async function (u) => { … }', s.user);
  if (hasFlows) {
    if (!Array.isArray(s.flows) || s.flows.length === 0) return bad('flows', 'a non-empty array of { name, weight, user }', s.flows);
    s.flows.forEach((f, i) => {
      const at = `flows[${i}]`;
      if (!isObject(f)) return bad(at, '{ name, weight, user }', f);
      keys(f, at, SCENARIO_KEYS.flow);
      if (typeof f.name !== 'string' || f.name === '') bad(`${at}.name`, 'a non-empty string', f.name);
      if (f.weight !== undefined && !isNum(f.weight, 0)) bad(`${at}.weight`, 'a number >= 0', f.weight);
      if (typeof f.user !== 'function') bad(`${at}.user`, 'an async function (u) => { … }', f.user);
    });
    const total = (s.flows as { weight?: number }[]).reduce((sum, f) => sum + (isObject(f) && isNum(f.weight, 0) ? f.weight : 1), 0);
    if (total === 0) bad('flows', 'at least one flow with weight > 0', 'all weights 0');
  }
}

function checkThresholds(thresholds: unknown, bad: Bad, keys: Keys) {
  if (!isObject(thresholds)) return bad('thresholds', "an object like { 'http.GET /': ['p(99) < 250'] }", thresholds);
  for (const [metric, exprs] of Object.entries(thresholds)) {
    const list = Array.isArray(exprs) ? exprs : [exprs];
    list.forEach((expr, i) => {
      const at = Array.isArray(exprs) ? `thresholds['${metric}'][${i}]` : `thresholds['${metric}']`;
      if (isObject(expr)) return checkThresholdObject(expr, at, bad, keys);
      if (typeof expr !== 'string') return bad(at, "an expression like 'p(99) < 250' or { expr, abortOnFail, delayAbortEval }", expr);
      const parsed = parseThreshold(expr);
      if ('problem' in parsed) bad(at, parsed.problem, expr);
    });
  }
}

/** `{ expr, abortOnFail?, delayAbortEval? }`: a threshold that may stop the run early. */
function checkThresholdObject(t: Record<string, unknown>, at: string, bad: Bad, keys: Keys) {
  keys(t, at, SCENARIO_KEYS.threshold);
  const parsed = typeof t.expr === 'string' ? parseThreshold(t.expr) : { problem: "an expression like 'p(99) < 250'" };
  if ('problem' in parsed) bad(`${at}.expr`, parsed.problem, t.expr);
  if (t.abortOnFail !== undefined && typeof t.abortOnFail !== 'boolean') bad(`${at}.abortOnFail`, 'true or false', t.abortOnFail);
  if (t.delayAbortEval !== undefined && !durationIn(t.delayAbortEval, 0, LIMITS.loadMs)) bad(`${at}.delayAbortEval`, `a duration like '30s', ${LONGEST_LOAD}`, t.delayAbortEval);
}

/** `load.find` (worker/plan/search.ts): open `{ from, to, step }` or closed `{ users: { from, to, step } }`, stepDuration, refine. */
function checkFind(load: Record<string, any>, bad: Bad, keys: Keys) {
  keys(load, 'load', { known: ['find'], elsewhere: { grace: TOP_LEVEL, maxUsers: 'inside find' } });
  const find = load.find;
  if (!isObject(find)) return bad('load.find', "{ from, to, step: '+50%', stepDuration: '30s', refine }", find);
  keys(find, 'load.find', SCENARIO_KEYS.find);
  const stepExpected = "a step like '+50%' (times 1.5 each step) or '+50' (50 more each step)";
  const range = (at: string, o: Record<string, any>, max: number, whole: boolean, limit: string) => {
    checkNumber(bad, `${at}.from`, o.from, { min: whole ? 1 : Number.MIN_VALUE, max, whole, limit });
    checkNumber(bad, `${at}.to`, o.to, { min: whole ? 1 : Number.MIN_VALUE, max, whole, limit });
    if (isNum(o.from, 0) && isNum(o.to, 0) && o.to < o.from) bad(`${at}.to`, `a number >= ${at}.from (${o.from})`, o.to);
  };
  const closed = find.users !== undefined;
  if (closed) {
    if ('from' in find || 'to' in find || 'step' in find) bad('load.find', 'either from/to/step (arrivals per second) or users: { from, to, step } (users), not both', Object.keys(find));
    if (!isObject(find.users)) bad('load.find.users', "{ from, to, step: '+10' }", find.users);
    else {
      keys(find.users, 'load.find.users', SCENARIO_KEYS.findUsers);
      range('load.find.users', find.users, LIMITS.users, true, USERS_LIMIT);
      if (find.users.step !== undefined && !parseStep(find.users.step)) bad('load.find.users.step', stepExpected, find.users.step);
    }
    if (find.maxUsers !== undefined) bad('load.find.maxUsers', 'nothing with users (the closed model runs exactly the step\'s users)', find.maxUsers);
  } else {
    range('load.find', find, LIMITS.arrivalRate, false, RATE_LIMIT);
    if (find.step !== undefined && !parseStep(find.step)) bad('load.find.step', stepExpected, find.step);
    if (find.maxUsers !== undefined) checkNumber(bad, 'load.find.maxUsers', find.maxUsers, { min: 1, max: LIMITS.users, whole: true, limit: USERS_LIMIT });
  }
  const stepMs = parseDuration(find.stepDuration);
  if (stepMs === undefined || stepMs < LIMITS.intervalMinMs) bad('load.find.stepDuration', `a duration of at least ${showLimit(LIMITS.intervalMinMs)} like '30s'`, find.stepDuration);
  if (find.refine !== undefined) checkNumber(bad, 'load.find.refine', find.refine, { min: 0, max: 20, whole: true, limit: 'at most 20 (bisecting steps)' });
  const b = searchBounds(find as FindSpec);
  if (b && stepMs !== undefined && stepMs >= LIMITS.intervalMinMs && (b.to >= b.from)) {
    const rungs = ladder(b.model, b.from, b.to, b.step);
    if (!rungs) bad('load.find', `at most ${MAX_LADDER_STEPS} steps from from to to: a larger step`, `${b.from} to ${b.to} by ${closed ? find.users?.step ?? '+50%' : find.step ?? '+50%'}`);
    else if (searchLoadMs(find as FindSpec) > LIMITS.loadMs) bad('load.find', `steps lasting ${LONGEST_LOAD} in all (with ${showLimit(DECISION_TIMEOUT_MS)} per step for decisions)`, `${rungs.length + b.refine} steps of ${showLimit(stepMs)}`);
  }
}

/** Returns what a target should have been, or undefined when it is a usable URL. */
export function targetProblem(target: unknown): string | undefined {
  const expected = 'a URL like http://127.0.0.1:8080, ws://host:port or tcp://host:port';
  if (typeof target !== 'string' || target === '') return expected;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return expected;
  }
  if (!['http:', 'https:', 'ws:', 'wss:', 'tcp:'].includes(url.protocol)) return `${expected} (scheme http, https, ws, wss or tcp)`;
  if (url.hostname === '') return `${expected} (a host is missing)`;
  if (url.protocol === 'tcp:' && url.port === '') return `${expected} (tcp:// needs a port)`;
  return undefined;
}

/** A duration of at least `minMs` and at most `maxMs`. */
function durationIn(v: unknown, minMs: number, maxMs: number) {
  const ms = parseDuration(v);
  return ms !== undefined && ms >= minMs && ms <= maxMs;
}
function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNum(v: unknown, min: number, max = Infinity): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}
function isInt(v: unknown, min: number, max = Infinity): v is number {
  return isNum(v, min, max) && Number.isInteger(v);
}
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const text = JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(v);
  }
}
