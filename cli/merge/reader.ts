import { layout, parseWorkerKey } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';

/**
 * Reads a run's snapshots and statuses from the store, each snapshot once: `refresh()` fetches
 * only what appeared since the last call, so live progress and the final merge share the reads.
 */
export class RunReader {
  private readonly seen = new Set<string>();
  readonly snapshots: Snapshot[] = [];
  statuses = new Map<number, WorkerStatus>();

  constructor(
    readonly store: Store,
    readonly runId: string,
  ) {}

  async plan(): Promise<Plan | undefined> {
    return getJson<Plan>(this.store, layout.plan(this.runId));
  }

  /** Fetches new snapshots and every status. Returns the snapshots that are new. */
  async refresh(): Promise<Snapshot[]> {
    const keys = await this.store.list(layout.workersPrefix(this.runId));
    const fresh: string[] = [];
    const statusKeys: string[] = [];
    for (const key of keys) {
      const parsed = parseWorkerKey(key);
      if (!parsed) continue;
      if (parsed.rest === 'status.json') statusKeys.push(key);
      else if (parsed.rest.startsWith('snapshots/') && parsed.rest.endsWith('.json') && !this.seen.has(key)) fresh.push(key);
    }
    const [snaps, statuses] = await Promise.all([
      mapLimit(fresh, 16, (key) => readWhole<Snapshot>(this.store, key)),
      mapLimit(statusKeys, 16, (key) => readWhole<WorkerStatus>(this.store, key)),
    ]);
    const added: Snapshot[] = [];
    snaps.forEach((s, i) => {
      if (!s) return;
      this.seen.add(fresh[i]);
      this.snapshots.push(s);
      added.push(s);
    });
    for (const st of statuses) if (st) this.statuses.set(st.index, st);
    return added;
  }
}

/**
 * An object's JSON, or undefined while it cannot be read whole: some S3-compatible servers let
 * a reader see an object that is still being written. The next refresh reads it again.
 */
async function readWhole<T>(store: Store, key: string): Promise<T | undefined> {
  try {
    return await getJson<T>(store, key);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}
