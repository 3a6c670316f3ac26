/**
 * The store layout (shared/DESIGN.md): everything of a run lives under `runs/<runId>/`.
 * Snapshot sequence numbers are zero-padded so that lexical order is write order.
 */
export const layout = {
  runsPrefix: 'runs/',
  run: (runId: string) => `runs/${runId}/`,
  plan: (runId: string) => `runs/${runId}/plan.json`,
  scenario: (runId: string) => `runs/${runId}/scenario.js`,
  stop: (runId: string) => `runs/${runId}/stop`,
  report: (runId: string) => `runs/${runId}/report.json`,
  reportHtml: (runId: string) => `runs/${runId}/report.html`,
  workersPrefix: (runId: string) => `runs/${runId}/workers/`,
  workerPrefix: (runId: string, index: number) => `runs/${runId}/workers/${index}/`,
  status: (runId: string, index: number) => `runs/${runId}/workers/${index}/status.json`,
  snapshotsPrefix: (runId: string, index: number) => `runs/${runId}/workers/${index}/snapshots/`,
  snapshot: (runId: string, index: number, seq: number) =>
    `runs/${runId}/workers/${index}/snapshots/${String(seq).padStart(6, '0')}.json`,
  rawEvents: (runId: string, index: number, part: number) =>
    `runs/${runId}/workers/${index}/events-${String(part).padStart(4, '0')}.ndjson.gz`,
};

/** Parses `runs/<runId>/workers/<i>/…` back into its parts; undefined for other keys. */
export function parseWorkerKey(key: string): { runId: string; index: number; rest: string } | undefined {
  const m = /^runs\/([^/]+)\/workers\/(\d+)\/(.+)$/.exec(key);
  return m ? { runId: m[1], index: Number(m[2]), rest: m[3] } : undefined;
}
