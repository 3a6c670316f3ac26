import * as fs from 'node:fs';
import * as os from 'node:os';
import { layout } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import type { WorkerStatus } from '../../worker/plan/plan';
import type { Fleet, FleetWorkerState } from './fleet';

/**
 * Workers another CLI process started on this machine (`loadfarm attach` to a local run),
 * known only through the store: a worker is running until its status.json says it ended; one
 * whose process is gone without saying so is lost. Cannot start workers; `cancel` sends SIGTERM.
 */
export class ObservedFleet implements Fleet {
  readonly name = 'local (attached)';

  constructor(
    private readonly store: Store,
    private readonly runId: string,
  ) {}

  start(): Promise<void> {
    return Promise.reject(new Error('an attached fleet cannot start workers'));
  }

  async status(index: number): Promise<FleetWorkerState> {
    const st = await getJson<WorkerStatus>(this.store, layout.status(this.runId, index));
    if (!st) return { state: 'pending' };
    if (st.state === 'done' || st.state === 'failed') return { state: 'exited', exitCode: st.exitCode ?? 0, detail: st.message };
    if (st.host === os.hostname() && !processAlive(st.pid)) return { state: 'lost', detail: `process ${st.pid} is gone without a final status` };
    return { state: 'running' };
  }

  async cancel(index: number): Promise<void> {
    const st = await getJson<WorkerStatus>(this.store, layout.status(this.runId, index));
    if (st && st.host === os.hostname() && processAlive(st.pid)) process.kill(st.pid, 'SIGTERM');
  }

  async close(): Promise<void> {}
}

/** True while `pid` runs (a zombie, killed but not reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
