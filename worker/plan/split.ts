import { parseDuration } from '../scenario/duration';
import type { Load } from '../scenario/types';
import { planSearch, searchLoadMs } from './search';

/**
 * Splits a whole number over `n` parts so that the parts sum to `total` exactly:
 * the first `total % n` parts get one more. distribute(10, 3) → [4, 3, 3].
 */
export function distribute(total: number, n: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`distribute: total must be a whole number >= 0, got ${total}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`distribute: parts must be a whole number >= 1, got ${n}`);
  const base = Math.floor(total / n);
  const extra = total % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Contiguous ranges [first, first + count) covering 0 … total-1 in `n` parts sized by
 * `distribute`: how rows of a `unique` data file are split among workers, like identities.
 */
export function splitRange(total: number, n: number): { first: number; count: number }[] {
  let first = 0;
  return distribute(total, n).map((count) => {
    const range = { first, count };
    first += count;
    return range;
  });
}

/** A normalised phase: durations in milliseconds, rates in arrivals per second (farm-wide). */
export interface PlannedPhase {
  name: string;
  durationMs: number;
  arrivalRate: number;
  rampTo: number;
}

/**
 * What one worker of `of` runs.
 * Open model: the farm-wide arrival schedule is numbered 0, 1, 2, …; this worker takes the
 * arrivals k with k % of === index, so the shares add up to the whole schedule exactly.
 * Closed model: `users` of the farm's users, split by `distribute`.
 */
export type LoadShare =
  | { model: 'open'; phases: PlannedPhase[]; index: number; of: number; maxUsers: number | null; arrivals: number }
  | { model: 'closed'; users: number; durationMs: number; rampUpMs: number };

export interface WorkerShare {
  load: LoadShare;
  /** How many user identities this worker can use: its arrivals (open) or users (closed). */
  identities: number;
}

export function normalisePhases(load: { phases: { name?: string; duration: string | number; arrivalRate: number; rampTo?: number }[] }): PlannedPhase[] {
  return load.phases.map((p, i) => ({
    name: p.name ?? `phase ${i + 1}`,
    durationMs: parseDuration(p.duration) ?? 0,
    arrivalRate: p.arrivalRate,
    rampTo: p.rampTo ?? p.arrivalRate,
  }));
}

/** Farm-wide arrivals of an open-model schedule: arrival k is due when the cumulative rate reaches k. */
export function totalArrivals(phases: PlannedPhase[]): number {
  const expected = phases.reduce((sum, p) => sum + ((p.arrivalRate + p.rampTo) / 2) * (p.durationMs / 1000), 0);
  // Arrivals are numbered from 0 at t=0, so a schedule expecting 10.0 has arrivals 0..9.
  return Math.ceil(expected - 1e-9);
}

/** Load duration in milliseconds, as each worker runs it from its own start. */
export function loadDurationMs(load: Load): number {
  if ('phases' in load) return normalisePhases(load).reduce((sum, p) => sum + p.durationMs, 0);
  if ('find' in load) return searchLoadMs(load.find);
  return parseDuration(load.duration) ?? 0;
}

/**
 * The one place where a farm-wide load is divided among `workers` workers.
 * Invariants (tested): users, arrivals and maxUsers of the shares sum to the farm-wide
 * figures; identities cover every user a worker can start.
 */
export function splitLoad(load: Load, workers: number): WorkerShare[] {
  if ('find' in load) return splitSearch(load.find, workers);
  if ('phases' in load) {
    const phases = normalisePhases(load);
    const total = totalArrivals(phases);
    const arrivals = distribute(total, workers);
    const caps = load.maxUsers === undefined ? null : distribute(load.maxUsers, workers);
    return arrivals.map((count, index) => ({
      load: { model: 'open', phases, index, of: workers, maxUsers: caps ? caps[index] : null, arrivals: count },
      identities: count,
    }));
  }
  const durationMs = parseDuration(load.duration) ?? 0;
  const rampUpMs = load.rampUp === undefined ? 0 : parseDuration(load.rampUp) ?? 0;
  return distribute(load.users, workers).map((users) => ({
    load: { model: 'closed', users, durationMs, rampUpMs },
    identities: users,
  }));
}

/**
 * A search's shares (worker/plan/search.ts): the rate of each step comes from the CLI at run
 * time, so the open share has no phases and takes arrivals k % of === index of each step, and
 * the closed share holds this worker's part of the most users (`distribute` of each step's users).
 * Identities cover the most a worker can start: arrivals at `to` for the whole search, or its
 * part of `users.to`.
 */
function splitSearch(find: import('../scenario/types').FindSpec, workers: number): WorkerShare[] {
  const s = planSearch(find, 0);
  const loadMs = searchLoadMs(find);
  if (s.model === 'closed') {
    return distribute(s.to, workers).map((users) => ({ load: { model: 'closed', users, durationMs: loadMs, rampUpMs: 0 }, identities: users }));
  }
  const caps = find.maxUsers === undefined ? null : distribute(find.maxUsers, workers);
  const most = Math.ceil((s.to * loadMs) / 1000 / workers) + 1;
  return Array.from({ length: workers }, (_, index) => ({
    load: { model: 'open', phases: [], index, of: workers, maxUsers: caps ? caps[index] : null, arrivals: 0 },
    identities: most,
  }));
}
