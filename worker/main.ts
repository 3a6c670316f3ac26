/**
 * The worker process: `node worker.js --store URL --run RUN_ID --worker INDEX [--s3-endpoint URL]`.
 * The same command line starts a worker on this machine (local fleet) and on an AWS instance
 * (SSM fleet). Exit codes: WORKER_EXIT in plan/plan.ts.
 */
import { parseArgs } from 'node:util';
import * as api from './index';
import { runWorker } from './run-worker';
import { openStore } from './store/open';
import { WORKER_EXIT } from './plan/plan';
import { errorCode } from './protocols/errors';
import { guardStdio, say } from './stdio';
import { killAfter } from './watchdog';

/** Stray errors from scenario code told on stderr, one line each; beyond it only their number, at exit. */
const STRAY_LINES_MAX = 20;

async function main(): Promise<number> {
  guardStdio();
  let values: { store?: string; run?: string; worker?: string; 's3-endpoint'?: string };
  try {
    ({ values } = parseArgs({
      options: { store: { type: 'string' }, run: { type: 'string' }, worker: { type: 'string' }, 's3-endpoint': { type: 'string' } },
    }));
  } catch (err) {
    say(`worker: ${(err as Error).message}`);
    return WORKER_EXIT.badInput;
  }
  const index = Number(values.worker);
  if (!values.store || !values.run || !Number.isInteger(index) || index < 0) {
    say('worker: usage: worker.js --store URL --run RUN_ID --worker INDEX');
    return WORKER_EXIT.badInput;
  }
  const store = await openStore(values.store, { s3Endpoint: values['s3-endpoint'] });
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  // A scenario's stray callback must not take the worker down: tell it (the first few) and go on.
  let strays = 0;
  const recordStray = (err: unknown) => {
    strays++;
    if (strays <= STRAY_LINES_MAX) say(`worker ${index}: uncaught in scenario code: ${errorCode(err)} ${(err as Error)?.stack ?? err}`);
    if (strays === STRAY_LINES_MAX) say(`worker ${index}: further uncaught errors are not shown`);
  };
  process.on('uncaughtException', recordStray);
  process.on('unhandledRejection', recordStray);
  const code = await runWorker({ store, runId: values.run, index, api, backstop: killAfter }, stop.signal);
  if (strays > STRAY_LINES_MAX) say(`worker ${index}: ${strays} uncaught errors in scenario code in all`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`worker: ${(err as Error).stack ?? err}`);
    process.exit(WORKER_EXIT.internal);
  },
);
