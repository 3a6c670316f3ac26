import { StoreError } from './errors';

/**
 * The store layout (shared/DESIGN.md): everything of a run lives under `runs/<runId>/`.
 * Snapshot sequence numbers are zero-padded so that lexical order is write order.
 * Every function taking a run id throws StoreError `STORE_BAD_RUN_ID` for one that is not a
 * safe name (runIdProblem), so no key built here can leave `runs/<runId>/`.
 */
export const layout = {
  runsPrefix: 'runs/',
  run: (runId: string) => `runs/${safe(runId)}/`,
  plan: (runId: string) => `runs/${safe(runId)}/plan.json`,
  scenario: (runId: string) => `runs/${safe(runId)}/scenario.js`,
  stop: (runId: string) => `runs/${safe(runId)}/stop`,
  /** Farm-wide decisions the CLI makes while a run goes (worker/control/steps.ts). */
  controlPrefix: (runId: string) => `runs/${safe(runId)}/control/`,
  /** Step `n` of a search, as announced to the workers (SearchStep). */
  searchStepsPrefix: (runId: string) => `runs/${safe(runId)}/control/steps/`,
  searchStep: (runId: string, n: number) => `runs/${safe(runId)}/control/steps/${String(n).padStart(6, '0')}.json`,
  /** The CLI's verdict on step `n` of a search (cli/search/evaluate.ts StepResult). */
  searchResult: (runId: string, n: number) => `runs/${safe(runId)}/control/results/${String(n).padStart(6, '0')}.json`,
  searchResultsPrefix: (runId: string) => `runs/${safe(runId)}/control/results/`,
  /** The threshold that stopped the run (abortOnFail), written before the stop marker. */
  abort: (runId: string) => `runs/${safe(runId)}/control/abort.json`,
  report: (runId: string) => `runs/${safe(runId)}/report.json`,
  reportHtml: (runId: string) => `runs/${safe(runId)}/report.html`,
  workersPrefix: (runId: string) => `runs/${safe(runId)}/workers/`,
  workerPrefix: (runId: string, index: number) => `runs/${safe(runId)}/workers/${index}/`,
  status: (runId: string, index: number) => `runs/${safe(runId)}/workers/${index}/status.json`,
  snapshotsPrefix: (runId: string, index: number) => `runs/${safe(runId)}/workers/${index}/snapshots/`,
  snapshot: (runId: string, index: number, seq: number) =>
    `runs/${safe(runId)}/workers/${index}/snapshots/${String(seq).padStart(6, '0')}.json`,
  /** A worker's roll-ups of one level (worker/metrics/rollup.ts), keyed by the snapshots they cover. */
  rollupsPrefix: (runId: string, index: number, level: string) => `runs/${safe(runId)}/workers/${index}/rollups/${level}/`,
  rollup: (runId: string, index: number, level: string, seqFrom: number, seqTo: number) =>
    `runs/${safe(runId)}/workers/${index}/rollups/${level}/${String(seqFrom).padStart(6, '0')}-${String(seqTo).padStart(6, '0')}.json`,
  rawEvents: (runId: string, index: number, part: number) =>
    `runs/${safe(runId)}/workers/${index}/events-${String(part).padStart(4, '0')}.ndjson.gz`,
};

/** Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128: one path segment, never '..'. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True for a run id that is a safe name (`newRunId` makes e.g. 20261123-181400-devices-a1b2). */
export function isRunId(runId: string): boolean {
  return RUN_ID.test(runId) && !runId.includes('..');
}

/** Why `runId` is not a safe run id, as one line saying what to give instead; undefined when it is. */
export function runIdProblem(runId: string): string | undefined {
  if (isRunId(runId)) return undefined;
  return (
    `run id ${JSON.stringify(runId)}: expected letters, digits, ".", "_" and "-" (starting with a letter or digit, ` +
    'at most 128, no "..") like 20261123-181400-devices-a1b2; `loadfarm runs` lists the runs'
  );
}

function safe(runId: string): string {
  const problem = runIdProblem(runId);
  if (problem) throw new StoreError('STORE_BAD_RUN_ID', problem);
  return runId;
}

/** Parses `runs/<runId>/workers/<i>/…` back into its parts; undefined for other keys. */
export function parseWorkerKey(key: string): { runId: string; index: number; rest: string } | undefined {
  const m = /^runs\/([^/]+)\/workers\/(\d+)\/(.+)$/.exec(key);
  return m ? { runId: m[1], index: Number(m[2]), rest: m[3] } : undefined;
}
