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

async function main(): Promise<number> {
  let values: { store?: string; run?: string; worker?: string; 's3-endpoint'?: string };
  try {
    ({ values } = parseArgs({
      options: { store: { type: 'string' }, run: { type: 'string' }, worker: { type: 'string' }, 's3-endpoint': { type: 'string' } },
    }));
  } catch (err) {
    process.stderr.write(`worker: ${(err as Error).message}\n`);
    return WORKER_EXIT.badInput;
  }
  const index = Number(values.worker);
  if (!values.store || !values.run || !Number.isInteger(index) || index < 0) {
    process.stderr.write('worker: usage: worker.js --store URL --run RUN_ID --worker INDEX\n');
    return WORKER_EXIT.badInput;
  }
  const store = await openStore(values.store, { s3Endpoint: values['s3-endpoint'] });
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  // A scenario's stray callback must not take the worker down: count it and go on.
  const recordStray = (err: unknown) => process.stderr.write(`worker ${index}: uncaught in scenario code: ${errorCode(err)} ${(err as Error)?.stack ?? err}\n`);
  process.on('uncaughtException', recordStray);
  process.on('unhandledRejection', recordStray);
  return runWorker({ store, runId: values.run, index, api }, stop.signal);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`worker: ${(err as Error).stack ?? err}\n`);
    process.exit(WORKER_EXIT.internal);
  },
);
