/**
 * Polls a run in the S3 protocol server as the CLI does while it runs (cli/run/execute.ts: a
 * RunReader with its default options, `refresh()` about every second), then reads it whole and
 * builds its report (`complete()`, reportFromStore: the merge and the report). For
 * bench/parts/scale-s3.mjs (issue 12). Stops polling once DONE_FILE exists (the writer is
 * finished) or after MAX_SECONDS.
 *
 * Usage: node s3-reader.cjs ENDPOINT BUCKET RUN_ID DONE_FILE MAX_SECONDS
 * Prints one JSON line: { polls: [{ at, ms, requests, fresh }], complete: { ms, requests }, report: { ms, ... } }.
 */
import * as fs from 'node:fs';
import { S3Store } from '../../worker/store/s3';
import { RunReader } from '../../cli/merge/reader';
import { reportFromStore } from '../../cli/report/from-store';

const [endpoint, bucket, runId, doneFile] = process.argv.slice(2, 6);
const MAX_SECONDS = Number(process.argv[6]);
const POLL_MS = 1000;

async function main() {
  const store = S3Store.fromUrl(`s3://${bucket}`, { endpoint, region: 'us-east-1' });
  const reader = new RunReader(store, runId);
  const t0 = Date.now();
  let plan;
  while (!(plan = await reader.plan().catch(() => undefined))) {
    if (Date.now() - t0 > 60_000) throw new Error('no plan within 60 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  const polls: { at: number; ms: number; requests: number; fresh: number }[] = [];
  let doneSeen: number | undefined;
  while (Date.now() - t0 < MAX_SECONDS * 1000) {
    const started = performance.now();
    const before = reader.requests;
    const fresh = await reader.refresh();
    const ms = performance.now() - started;
    polls.push({ at: Math.round((Date.now() - t0) / 100) / 10, ms: Math.round(ms), requests: reader.requests - before, fresh: fresh.length });
    if (doneSeen === undefined && fs.existsSync(doneFile)) doneSeen = Date.now();
    if (doneSeen !== undefined && Date.now() - doneSeen > 2000) break;
    await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - ms)));
  }
  const c0 = performance.now();
  const before = reader.requests;
  await reader.complete();
  const complete = { ms: Math.round(performance.now() - c0), requests: reader.requests - before, held: reader.snapshots.length };
  const r0 = performance.now();
  const report = await reportFromStore(reader, plan);
  const built = { ms: Math.round(performance.now() - r0), status: report.status, unusable: reader.unusable().length, workersWithStatus: reader.statuses.size, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) };
  process.stdout.write(`${JSON.stringify({ polls, complete, report: built })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
