/**
 * Where workers run. The CLI starts worker i with the same command line on every fleet
 * (`workerCommand`); a fleet only knows how to start, watch and cancel it.
 */
export interface Fleet {
  /** For messages: "local", "ssm env=perf". */
  readonly name: string;
  /** Starts worker `index` running `command` (argv). Rejects when it could not be started. */
  start(index: number, command: string[]): Promise<void>;
  /**
   * Optional: starts several workers due at the same moment in as few calls as the fleet can
   * (SSM: one SendCommand per 50 instances). Resolves with the indexes that could not be
   * started and why (an Error whose message names the worker's problem, with the fleet's own
   * error as `cause`); the others are running.
   */
  startBatch?(indexes: number[], command: (index: number) => string[]): Promise<Map<number, Error>>;
  /** What the fleet knows of worker `index`. */
  status(index: number): Promise<FleetWorkerState>;
  /**
   * After the run's stop marker, how long workers get to end by themselves before `cancel` is
   * worth sending (SSM's cancel kills the process: no last snapshot), ms. @default 0
   */
  readonly cancelGraceMs?: number;
  /** Asks worker `index` to stop (it still writes its last snapshot). */
  cancel(index: number): Promise<void>;
  /** Releases what the fleet holds; running workers are left to stop by themselves. */
  close(): Promise<void>;
}

export type FleetWorkerState =
  | { state: 'pending' | 'running' }
  | { state: 'exited'; exitCode: number; detail?: string }
  /** The fleet lost the worker (process vanished, instance gone); `detail` says what is known. */
  | { state: 'lost'; detail: string }
  /**
   * The fleet cannot tell right now (SSM no longer shows the invocation): the worker is not
   * lost for that; the follow loop goes by what the worker writes to the store.
   */
  | { state: 'unknown'; detail: string }
  /** Never started, and never will be in this run (stopped, or left out by `attach`); `detail` says why. */
  | { state: 'never-started'; detail: string };

/** The argv that runs worker `index` of `runId`; `workerScript` is the bundled worker.js. */
export function workerCommand(o: { node: string; workerScript: string; store: string; runId: string; index: number; s3Endpoint?: string }): string[] {
  const argv = [o.node, o.workerScript, '--store', o.store, '--run', o.runId, '--worker', String(o.index)];
  if (o.s3Endpoint) argv.push('--s3-endpoint', o.s3Endpoint);
  return argv;
}

/** Quotes argv for a POSIX shell (the SSM fleet's AWS-RunShellScript). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
