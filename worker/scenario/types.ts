import type { Duration } from './duration';
import type { HttpClient } from '../protocols/http';
import type { WsClient } from '../protocols/ws';
import type { TcpClient } from '../protocols/tcp';
import type { SocketIoClient } from '../protocols/socketio';
import type { Rng } from '../engine/rng';
import type { DataSource, DataViews } from '../data/types';

/** One stretch of the open model: arrivals per second, optionally ramping linearly to `rampTo`. */
export interface Phase {
  name?: string;
  duration: Duration;
  /** New users per second (across the whole farm) at the start of the phase. */
  arrivalRate: number;
  /** New users per second at the end of the phase; the rate moves linearly in between. */
  rampTo?: number;
}

/** Open model: users arrive on a schedule whether or not earlier ones have finished. */
export interface OpenLoad {
  phases: Phase[];
  /** Cap on users in flight across the farm; arrivals beyond it are dropped and counted. */
  maxUsers?: number;
}

/** Closed model: a fixed number of users, each running its journey in a loop. */
export interface ClosedLoad {
  users: number;
  duration: Duration;
  /** Users are started evenly over this time. @default 0 */
  rampUp?: Duration;
  /**
   * Pause of a user after an iteration that threw (a network failure, an exception), so that a
   * failing target is not hammered in a tight loop: `min`, doubling after each further failed
   * iteration up to `max`, back to none after an iteration that did not throw. An HTTP error
   * status is returned, not thrown, and does not pause. `false`: loop again at once.
   * @default { min: '1s', max: '30s' }
   */
  backoff?: { min?: Duration; max?: Duration } | false;
}

/**
 * Search model (README, "Find the breaking point"): steps of rising load, each held for
 * `stepDuration`, judged farm-wide by the scenario's thresholds; after the first step that breaks
 * one, `refine` steps bisect between the last good and the first bad step.
 */
export interface FindLoad {
  find: FindSpec;
}

/** `'+50%'`: each step offers 1.5 times the one before; `'+50'`: 50 more (arrivals/s or users). */
export type StepSize = string;

export interface FindSpec {
  /** Open model: arrivals per second across the farm at the first step. */
  from?: number;
  /** Open model: the highest rate the search offers (its last step, if every step holds). */
  to?: number;
  /** Closed model instead of from/to: users across the farm at the first step, at most, and the step. */
  users?: { from: number; to: number; step?: StepSize };
  /** Growth from one step to the next (open model; the closed model's is `users.step`). @default '+50%' */
  step?: StepSize;
  /** How long each step lasts, measured. */
  stepDuration: Duration;
  /** Bisecting steps after the first step that breaks a threshold. @default 0 */
  refine?: number;
  /** Open model: cap on users in flight across the farm, as OpenLoad.maxUsers. */
  maxUsers?: number;
}

export type Load = OpenLoad | ClosedLoad | FindLoad;

export type UserFn = (u: User) => Promise<void> | void;

export interface Flow {
  name: string;
  /** Relative weight; flows are picked per user with the user's seeded rng. @default 1 */
  weight?: number;
  user: UserFn;
}

/** `'p(99) < 250'`, `'avg < 100'`, `'max <= 2000'`, `'count > 10'`, `'rate < 0.01'`. */
export type ThresholdExpression = string;

/**
 * A threshold that may stop the farm early: evaluated on merged data as the run goes (every
 * poll, no sooner than `delayAbortEval` after the first snapshot); once it fails, every worker is
 * stopped and the report says which threshold stopped it and when.
 */
export interface ThresholdObject {
  expr: ThresholdExpression;
  /** @default false */
  abortOnFail?: boolean;
  /** How long after the run's start abortOnFail is first evaluated. @default 0 */
  delayAbortEval?: Duration;
}

export type ThresholdSpec = ThresholdExpression | ThresholdObject;

export interface HttpOptions {
  /** Per-request timeout. @default '30s' */
  timeout?: Duration;
  /** Keep-alive connections per origin per worker; unlimited when absent. */
  connections?: number;
}

export interface ScenarioConfig {
  name: string;
  /** Default target URL; `--target` overrides it. Relative URLs in clients resolve against it. */
  target?: string;
  load: Load;
  thresholds?: Record<string, ThresholdSpec | ThresholdSpec[]>;
  user?: UserFn;
  flows?: Flow[];
  http?: HttpOptions;
  /** Time users in flight get to finish after the load ends, before they are cut. @default '10s' */
  grace?: Duration;
  /**
   * A rolling report per period of a long run (`--every` on the command line wins): the CLI
   * following the run writes runs/<runId>/reports/<n>-<periodEnd>.json|.html with that period's
   * numbers. At least 1m. @default none
   */
  reportEvery?: Duration;
  /** Test data files by name, drawn as `u.data.<name>.next()`: `{ accounts: csv('./accounts.csv', { mode: 'unique' }) }`. */
  data?: Record<string, DataSource<any>>;
}

export const SCENARIO_BRAND = Symbol.for('loadfarm.scenario');

export interface Scenario extends ScenarioConfig {
  readonly [SCENARIO_BRAND]: true;
}

/** What a virtual user's journey receives. */
export interface User {
  /** Globally unique user number, from this worker's identity range. */
  readonly id: number;
  /** Index of the worker running this user. */
  readonly worker: number;
  /** The run's target URL. */
  readonly target: string;
  /** The run's `--param KEY=VALUE` pairs. */
  readonly params: Readonly<Record<string, string>>;
  /** Seeded per user: the same run seed gives the same sequence to the same user. */
  readonly rng: Rng;
  /** 0 for the first pass of a closed-model user, then 1, 2, …; always 0 in the open model. */
  readonly iteration: number;
  /** Per-user state that lives across iterations of a closed-model user. */
  readonly vars: Record<string, unknown>;
  /** Milliseconds until this worker's load ends (0 once it has): hold a connection until then. */
  endsIn(): number;
  /** Waits `min` seconds, or a seeded random time in [min, max] seconds. Rejects when the run stops. */
  think(min: number, max?: number): Promise<void>;
  /** Times `fn` into the metric `name` (milliseconds); errors are counted by code and re-thrown. */
  time<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Adds `n` (default 1) to the counter `name`. */
  count(name: string, n?: number): void;
  /** Records a pass or fail for `name`; a fail counts as an error `check <name>`. Returns `ok`. */
  check(name: string, ok: boolean): boolean;
  readonly http: HttpClient;
  readonly ws: WsClient;
  readonly tcp: TcpClient;
  readonly socketio: SocketIoClient;
  /** The scenario's data sets: `u.data.accounts.next()` (see DataMode for what each mode draws). */
  readonly data: DataViews;
}
