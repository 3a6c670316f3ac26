import { parseDuration } from './duration';
import { parseThreshold } from './thresholds';
import type { ScenarioConfig } from './types';

/**
 * Checks a scenario and returns every problem found, each as `path: expected …, got …`.
 * An empty list means the scenario can run. Never throws on any input.
 */
export function validateScenario(value: unknown): string[] {
  const problems: string[] = [];
  const bad = (path: string, expected: string, got: unknown) =>
    problems.push(`${path}: expected ${expected}, got ${show(got)}`);

  if (!isObject(value)) {
    bad('scenario', 'the object returned by defineScenario({...}) as the default export', value);
    return problems;
  }
  const s = value as Partial<ScenarioConfig> & Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name.trim() === '') bad('name', 'a non-empty string', s.name);
  if (s.target !== undefined) {
    const problem = targetProblem(s.target);
    if (problem) bad('target', problem, s.target);
  }
  checkLoad(s.load, bad);
  checkJourney(s, bad);
  if (s.thresholds !== undefined) checkThresholds(s.thresholds, bad);
  if (s.grace !== undefined && parseDuration(s.grace) === undefined) bad('grace', "a duration like '10s'", s.grace);
  if (s.http !== undefined) {
    if (!isObject(s.http)) bad('http', 'an object', s.http);
    else {
      if (s.http.timeout !== undefined && !positiveDuration(s.http.timeout)) bad('http.timeout', "a duration > 0 like '30s'", s.http.timeout);
      if (s.http.connections !== undefined && !isInt(s.http.connections, 1)) bad('http.connections', 'a whole number >= 1', s.http.connections);
    }
  }
  return problems;
}

type Bad = (path: string, expected: string, got: unknown) => void;

function checkLoad(load: unknown, bad: Bad) {
  if (!isObject(load)) {
    bad('load', '{ phases: [...] } (open model) or { users, duration } (closed model)', load);
    return;
  }
  const hasPhases = 'phases' in load;
  const hasUsers = 'users' in load;
  if (hasPhases && hasUsers) {
    bad('load', 'either phases (open model) or users (closed model), not both', Object.keys(load));
    return;
  }
  if (hasPhases) {
    const phases = load.phases;
    if (!Array.isArray(phases) || phases.length === 0) bad('load.phases', 'a non-empty array of phases', phases);
    else
      phases.forEach((p, i) => {
        const at = `load.phases[${i}]`;
        if (!isObject(p)) return bad(at, '{ duration, arrivalRate, rampTo? }', p);
        if (p.name !== undefined && typeof p.name !== 'string') bad(`${at}.name`, 'a string', p.name);
        if (!positiveDuration(p.duration)) bad(`${at}.duration`, "a duration > 0 like '30s', '2m' or 60", p.duration);
        if (!isNum(p.arrivalRate, 0)) bad(`${at}.arrivalRate`, 'a number >= 0', p.arrivalRate);
        if (p.rampTo !== undefined && !isNum(p.rampTo, 0)) bad(`${at}.rampTo`, 'a number >= 0', p.rampTo);
      });
    if (load.maxUsers !== undefined && !isInt(load.maxUsers, 1)) bad('load.maxUsers', 'a whole number >= 1', load.maxUsers);
    return;
  }
  if (hasUsers) {
    if (!isInt(load.users, 1)) bad('load.users', 'a whole number >= 1', load.users);
    if (!positiveDuration(load.duration)) bad('load.duration', "a duration > 0 like '5m'", load.duration);
    if (load.rampUp !== undefined && parseDuration(load.rampUp) === undefined) bad('load.rampUp', "a duration like '30s'", load.rampUp);
    return;
  }
  bad('load', '{ phases: [...] } (open model) or { users, duration } (closed model)', load);
}

function checkJourney(s: Record<string, unknown>, bad: Bad) {
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
      if (typeof f.name !== 'string' || f.name === '') bad(`${at}.name`, 'a non-empty string', f.name);
      if (f.weight !== undefined && !isNum(f.weight, 0)) bad(`${at}.weight`, 'a number >= 0', f.weight);
      if (typeof f.user !== 'function') bad(`${at}.user`, 'an async function (u) => { … }', f.user);
    });
    const total = (s.flows as { weight?: number }[]).reduce((sum, f) => sum + (isObject(f) && isNum(f.weight, 0) ? f.weight : 1), 0);
    if (total === 0) bad('flows', 'at least one flow with weight > 0', 'all weights 0');
  }
}

function checkThresholds(thresholds: unknown, bad: Bad) {
  if (!isObject(thresholds)) return bad('thresholds', "an object like { 'http.GET /': ['p(99) < 250'] }", thresholds);
  for (const [metric, exprs] of Object.entries(thresholds)) {
    const list = Array.isArray(exprs) ? exprs : [exprs];
    list.forEach((expr, i) => {
      const at = Array.isArray(exprs) ? `thresholds['${metric}'][${i}]` : `thresholds['${metric}']`;
      if (typeof expr !== 'string') return bad(at, "an expression like 'p(99) < 250'", expr);
      const parsed = parseThreshold(expr);
      if ('problem' in parsed) bad(at, parsed.problem, expr);
    });
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

function positiveDuration(v: unknown) {
  const ms = parseDuration(v);
  return ms !== undefined && ms > 0;
}
function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNum(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min;
}
function isInt(v: unknown, min: number): v is number {
  return isNum(v, min) && Number.isInteger(v);
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
