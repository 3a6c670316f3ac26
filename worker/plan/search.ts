import { parseDuration } from '../scenario/duration';
import type { FindSpec } from '../scenario/types';

/** A step size: `'+50%'` multiplies by 1.5, `'+50'` adds 50. */
export type StepRule = { kind: 'percent' | 'add'; value: number };

/**
 * A search as planned (plan.json `search`): what every worker and the deciding CLI follow.
 * Rates are arrivals per second across the farm (open) or users across the farm (closed).
 */
export interface PlannedSearch {
  model: 'open' | 'closed';
  from: number;
  to: number;
  step: StepRule;
  /** How long each step is measured, ms. */
  stepMs: number;
  /** Bisecting steps after the first step that breaks. */
  refine: number;
  /** The rates of the rising steps, `from` to `to` inclusive. */
  ladder: number[];
  /**
   * Worker side, ms: a worker that has seen no step this long after its own start ends its load
   * (the CLI that decides steps is gone or never came).
   */
  startTimeoutMs: number;
  /**
   * Worker side, ms: once its current step has ended, a worker holds that step's rate while the
   * CLI decides; with no later step announced this long after the end, it ends its load.
   */
  decisionTimeoutMs: number;
}

/** How long a worker waits for the next step after one ended before it ends its load, ms. */
export const DECISION_TIMEOUT_MS = 15_000;
/** How long a worker waits for the first step after the last worker's planned start, ms. */
export const START_TIMEOUT_MS = 60_000;
/** The longest warm-up before the first step (run at `from`, never judged), ms; a step's length when shorter. */
export const WARMUP_MS = 3000;
/** The most rising steps a search may plan. */
export const MAX_LADDER_STEPS = 200;

const STEP = /^\s*\+\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/;

/** `'+50%'` or `'+50'` (a number N is `'+N'`), or undefined when it is neither or not > 0. */
export function parseStep(value: unknown): StepRule | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? { kind: 'add', value } : undefined;
  if (typeof value !== 'string') return undefined;
  const m = STEP.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!(n > 0)) return undefined;
  return { kind: m[2] === '%' ? 'percent' : 'add', value: n };
}

/** A rate as steps use it: whole users (closed), arrivals/s to 0.01 (open). */
export function roundRate(model: 'open' | 'closed', x: number): number {
  return model === 'closed' ? Math.round(x) : Math.round(x * 100) / 100;
}

/**
 * The rising steps from `from` to `to`: each the one before grown by `step` (at least by one
 * unit: a user, or 0.01 arrivals/s), the last one `to` itself. At most `max` + 1 entries: a
 * longer ladder returns undefined.
 */
export function ladder(model: 'open' | 'closed', from: number, to: number, step: StepRule, max = MAX_LADDER_STEPS): number[] | undefined {
  const unit = model === 'closed' ? 1 : 0.01;
  const out = [roundRate(model, from)];
  while (out[out.length - 1] < to) {
    const last = out[out.length - 1];
    const grown = step.kind === 'percent' ? last * (1 + step.value / 100) : last + step.value;
    out.push(Math.min(to, Math.max(last + unit, roundRate(model, grown))));
    if (out.length > max + 1) return undefined;
  }
  return out;
}

/** The rate halfway between a good and a bad one, or undefined when none lies strictly between. */
export function bisect(model: 'open' | 'closed', good: number, bad: number): number | undefined {
  const mid = model === 'closed' ? Math.floor((good + bad) / 2) : roundRate(model, (good + bad) / 2);
  return mid > good && mid < bad ? mid : undefined;
}

/** The search's model and bounds from a scenario's `find`, or undefined when it is not valid (validate first). */
export function searchBounds(find: FindSpec): { model: 'open' | 'closed'; from: number; to: number; step: StepRule; stepMs: number; refine: number } | undefined {
  const closed = find.users !== undefined;
  const from = closed ? find.users!.from : find.from;
  const to = closed ? find.users!.to : find.to;
  const step = parseStep((closed ? find.users!.step : find.step) ?? '+50%');
  const stepMs = parseDuration(find.stepDuration);
  if (from === undefined || to === undefined || step === undefined || stepMs === undefined) return undefined;
  return { model: closed ? 'closed' : 'open', from, to, step, stepMs, refine: find.refine ?? 0 };
}

/**
 * The longest a search keeps a worker's load going, ms, from the first worker's start: the wait
 * for the first step, then every step (rising and refining) with the longest wait for its
 * successor. `staggerSpanMs` is the last worker's start after the first's.
 */
export function searchLoadMs(find: FindSpec, staggerSpanMs = 0): number {
  const b = searchBounds(find);
  if (!b) return 0;
  const steps = (ladder(b.model, b.from, b.to, b.step)?.length ?? MAX_LADDER_STEPS) + b.refine;
  return staggerSpanMs + START_TIMEOUT_MS + WARMUP_MS + steps * (b.stepMs + DECISION_TIMEOUT_MS);
}

/** The plan's `search` for a scenario's `find` (valid: validate first). */
export function planSearch(find: FindSpec, staggerSpanMs: number): PlannedSearch {
  const b = searchBounds(find)!;
  return {
    ...b,
    ladder: ladder(b.model, b.from, b.to, b.step) ?? [b.from, b.to],
    startTimeoutMs: staggerSpanMs + START_TIMEOUT_MS,
    decisionTimeoutMs: DECISION_TIMEOUT_MS,
  };
}
