import { layout, parseWorkerKey } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import { snapshotProblem } from './validate';
import { readPlan } from '../../worker/plan/read';

/** An object of the run the merge could not use, and why. */
export interface Unusable {
  key: string;
  reason: string;
}

/**
 * Reads a run's snapshots and statuses from the store, each snapshot once: `refresh()` fetches
 * only what appeared since the last call, so live progress and the final merge share the reads.
 *
 * Failure semantics: an object that cannot be read whole (half-written, a read cut mid-body, a
 * transient store error) is tried again on the next refresh and listed in `unreadable` until it
 * is read; a snapshot whose content disagrees with its key or the plan (another run's or
 * another worker's, out of the run's time window, malformed) is refused for good and listed in
 * `refused`. Whatever is listed when the run is reported makes the report incomplete.
 */
export class RunReader {
  private readonly seen = new Set<string>();
  readonly snapshots: Snapshot[] = [];
  statuses = new Map<number, WorkerStatus>();
  /** Objects that could not be read on the latest refresh, by key. */
  readonly unreadable = new Map<string, string>();
  /** Snapshots refused for good, by key. */
  readonly refused = new Map<string, string>();
  private planned: Plan | undefined;

  constructor(
    readonly store: Store,
    readonly runId: string,
  ) {}

  /** The run's plan, checked (worker/plan/read.ts): undefined when there is none; PlanError when unusable. */
  async plan(): Promise<Plan | undefined> {
    this.planned = await readPlan(this.store, this.runId);
    return this.planned;
  }

  /** Objects the merge could not use, refused first, in key order. */
  unusable(): Unusable[] {
    const list = [...this.refused].map(([key, reason]) => ({ key, reason }));
    for (const [key, reason] of this.unreadable) list.push({ key, reason });
    return list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Fetches new snapshots and every status. Returns the snapshots that are new. */
  async refresh(): Promise<Snapshot[]> {
    const keys = await this.store.list(layout.workersPrefix(this.runId));
    const fresh: string[] = [];
    const statusKeys: string[] = [];
    for (const key of keys) {
      const parsed = parseWorkerKey(key);
      if (!parsed || parsed.runId !== this.runId) continue;
      if (parsed.rest === 'status.json') statusKeys.push(key);
      else if (parsed.rest.startsWith('snapshots/') && parsed.rest.endsWith('.json') && !this.seen.has(key) && !this.refused.has(key)) fresh.push(key);
    }
    const [snaps, statuses] = await Promise.all([
      mapLimit(fresh, 16, (key) => this.read<Snapshot>(key)),
      mapLimit(statusKeys, 16, (key) => this.read<WorkerStatus>(key)),
    ]);
    const added: Snapshot[] = [];
    snaps.forEach((s, i) => {
      if (s === undefined) return;
      const key = fresh[i];
      const problem = snapshotProblem(s, key, this.runId, this.planned);
      if (problem) {
        this.refused.set(key, problem);
        return;
      }
      this.seen.add(key);
      this.snapshots.push(s);
      added.push(s);
    });
    statuses.forEach((st, i) => {
      if (st === undefined) return;
      const parsed = parseWorkerKey(statusKeys[i])!;
      if (typeof st !== 'object' || st === null || st.index !== parsed.index) {
        this.unreadable.set(statusKeys[i], `its index is ${JSON.stringify((st as WorkerStatus | null)?.index)}, not ${parsed.index}`);
        return;
      }
      this.statuses.set(st.index, st);
    });
    return added;
  }

  /**
   * An object's JSON, or undefined when it cannot be read whole now (listed in `unreadable`
   * until a later read succeeds) or is gone.
   */
  private async read<T>(key: string): Promise<T | undefined> {
    try {
      const value = await getJson<T>(this.store, key);
      this.unreadable.delete(key);
      return value;
    } catch (err) {
      this.unreadable.set(key, err instanceof SyntaxError ? `not whole JSON (${err.message})` : `could not be read (${describe(err)})`);
      return undefined;
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
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
