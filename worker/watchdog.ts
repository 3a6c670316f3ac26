import { Worker } from 'node:worker_threads';

/**
 * Kills this process (SIGKILL) `ms` from now, from a thread of its own: the backstop for when the
 * event loop itself never comes back (a scenario stuck in `while (true)`), where no timer of the
 * main thread can fire. The thread does not keep the process alive; a process that ends first
 * takes it along. Costs one idle thread.
 */
export function killAfter(ms: number): void {
  const thread = new Worker(
    `const { workerData } = require('node:worker_threads');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
     process.kill(workerData.pid, 'SIGKILL');`,
    { eval: true, workerData: { ms, pid: process.pid } },
  );
  thread.unref();
}
