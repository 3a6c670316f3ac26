import type { LoadShare } from './split';
import type { PlannedData } from '../data/types';
import type { PlannedSearch } from './search';

/**
 * A run's plan (store: runs/<runId>/plan.json), written by the CLI before any worker starts
 * and read by every worker. Times are milliseconds; `createdAt` is epoch ms.
 */
export interface Plan {
  v: 1;
  runId: string;
  createdAt: number;
  scenario: { name: string; file: string };
  target: string;
  seed: number;
  staggerMs: number;
  /** How often workers write a snapshot. */
  intervalMs: number;
  /** Time users in flight get after the load ends. */
  graceMs: number;
  /** Period of rolling reports (runs/<runId>/reports/), ms; absent for none. */
  reportEveryMs?: number;
  /** Each worker's load, from its own start. */
  loadMs: number;
  /** A worker stops hard this long after its own start, whatever happens. */
  hardStopMs: number;
  /** Default timeout of protocol operations. */
  timeoutMs: number;
  /** Worker i uses user numbers [base + i·stride, base + i·stride + its count). */
  identities: { base: number; stride: number };
  /** Local addresses to spread outgoing connections over; empty lets the OS choose. */
  sourceIps: string[];
  /** Threshold expressions by metric name or glob, from the scenario and the command line. */
  thresholds: Record<string, string[]>;
  /** Keep every operation as gzip NDJSON in the store (`--raw-events`). */
  rawEvents: boolean;
  /** `--param KEY=VALUE` pairs, seen by users as `u.params`. */
  params: Record<string, string>;
  /** Keep-alive HTTP connections per origin per worker; null for no limit. */
  httpConnections: number | null;
  workers: WorkerPlan[];
  /** The scenario's data sets by name (store parts, each worker's share); absent without `data`. */
  data?: Record<string, PlannedData>;
  /** A breaking-point search (`load.find`): steps come from the CLI through `control/` (worker/control/steps.ts). */
  search?: PlannedSearch;
  /** Thresholds that stop the farm when they fail (`abortOnFail`), checked by the CLI no sooner than `delayMs` after the start. */
  abortOnFail?: { metric: string; expression: string; delayMs: number }[];
}

export interface WorkerPlan {
  index: number;
  /** When the worker is due to start, from the run's start. */
  startOffsetMs: number;
  seed: number;
  identity: { first: number; count: number };
  load: LoadShare;
}

/** Worker status (store: runs/<runId>/workers/<i>/status.json), rewritten as it changes. */
export interface WorkerStatus {
  index: number;
  state: 'starting' | 'running' | 'stopping' | 'done' | 'failed';
  host: string;
  pid: number;
  startedAt: number;
  loadEndsAt?: number;
  endedAt?: number;
  exitCode?: number;
  /** One plain line on why the worker failed or stopped early. */
  message?: string;
  /** Users that were still running at the end of the grace and were cut. */
  cutUsers?: number;
  /** True when the load ran to its planned end. */
  completed?: boolean;
}

/**
 * Worker exit codes; the CLI turns each into one plain line.
 * 0 done · 1 bad input (plan or scenario unusable) · 2 the store failed ·
 * 3 hard stop at the deadline · 4 internal failure.
 */
export const WORKER_EXIT = { done: 0, badInput: 1, store: 2, deadline: 3, internal: 4 } as const;

export const WORKER_EXIT_TEXT: Record<number, string> = {
  0: 'finished',
  1: 'could not use its plan or scenario',
  2: 'could not write to the store',
  3: 'was stopped hard at its deadline',
  4: 'failed inside loadfarm',
};

/**
 * Exit codes of the SSM start script (cli/fleet/ssm-script.ts) when it cannot start a worker.
 * Kept apart from WORKER_EXIT, from node's own 1 (an uncaught error while loading the worker
 * bundle), from the shell's 126/127 and from 128+signal, so the CLI can say what to fix:
 * 80 the instance has no worker in the command (a loadfarm bug) · 81 the machine is not set up
 * yet (its ready file is missing) · 82 node is missing or not executable · 83 the worker bundle
 * is missing or unreadable.
 */
export const START_SCRIPT_EXIT = { noWorker: 80, notReady: 81, noNode: 82, noBundle: 83 } as const;
