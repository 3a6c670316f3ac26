import { layout } from '../../worker/store/layout';
import { getJson, type Store } from '../../worker/store/store';
import { ROLLUP_LEVELS, isRollup } from '../../worker/metrics/rollup';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import { readPlan } from '../../worker/plan/read';
import { selectCover } from './cover';
import { snapshotProblem } from './validate';

/** An object of the run the merge could not use, and why. */
export interface Unusable {
  key: string;
  reason: string;
}

export interface ReaderOptions {
  /**
   * Workers whose snapshots one `refresh()` lists, round-robin, and statuses it reads: what
   * bounds a live poll's store requests on a large farm (every worker is visited every
   * ⌈workers / this⌉ polls). `complete()` visits every worker.
   * @default 256
   */
  workersPerRefresh?: number;
  /** Parallel store requests. @default 32 */
  concurrency?: number;
}

/** What the reader holds of one worker: objects not yet covered by a coarser one, by key. */
class WorkerView {
  readonly held = new Map<string, Snapshot>();
  /** The newest snapshot key listed, and per roll-up level the newest roll-up key. */
  lastSnapshot: string | undefined;
  readonly lastRollup = new Map<string, string>();
  /** Raw snapshots held since roll-ups were last looked for. */
  rawSince = 0;
  /** The highest snapshot sequence number a roll-up read covers; -1 for none. */
  coveredTo = -1;
}

/**
 * Reads a run's snapshots, roll-ups and statuses from the store, each object once.
 *
 * Store requests: `refresh()` (a live poll) lists, for at most `workersPerRefresh` workers, only
 * the snapshot keys after the newest it saw (StartAfter), gets the new ones and those workers'
 * statuses — so a poll costs O(min(workers, workersPerRefresh) + new snapshots), never O(all
 * snapshots). A worker whose raw snapshots pile up is compacted: its roll-ups are listed and
 * read, and the snapshots they cover are dropped from memory. `complete()` (before a report)
 * does this for every worker. Memory per worker: its roll-ups and the snapshots none covers.
 *
 * Failure semantics: an object that cannot be read whole (half-written, a read cut mid-body, a
 * transient store error) is tried again on the next visit and listed in `unreadable` until it
 * is read; an object whose content disagrees with its key or the plan (another run's or
 * another worker's, out of the run's time window, malformed, a roll-up that overlaps another in
 * part) is refused for good and listed in `refused`. Whatever is listed when the run is
 * reported makes the report incomplete.
 */
export class RunReader {
  statuses = new Map<number, WorkerStatus>();
  /** Objects that could not be read on the latest visit, by key. */
  readonly unreadable = new Map<string, string>();
  /** Objects refused for good, by key. */
  readonly refused = new Map<string, string>();
  private planned: Plan | undefined;
  private readonly views = new Map<number, WorkerView>();
  private cursor = 0;
  private readonly perRefresh: number;
  private readonly concurrency: number;
  /** Store requests made so far (lists and gets): what a bench measures per poll. */
  requests = 0;

  constructor(
    readonly store: Store,
    readonly runId: string,
    options: ReaderOptions = {},
  ) {
    this.perRefresh = options.workersPerRefresh ?? 256;
    this.concurrency = options.concurrency ?? 32;
  }

  /** The run's plan, checked (worker/plan/read.ts): undefined when there is none; PlanError when unusable. */
  async plan(): Promise<Plan | undefined> {
    this.requests++;
    this.planned = await readPlan(this.store, this.runId);
    return this.planned;
  }

  /** What the merge reads: per worker, the roll-ups and snapshots that cover each interval once. */
  get snapshots(): Snapshot[] {
    const all: Snapshot[] = [];
    for (const v of this.views.values()) for (const s of v.held.values()) all.push(s);
    return all;
  }

  /** Objects the merge could not use, in key order. */
  unusable(): Unusable[] {
    const list = [...this.refused].map(([key, reason]) => ({ key, reason }));
    for (const [key, reason] of this.unreadable) list.push({ key, reason });
    return list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * A live poll: new snapshots and statuses of the next `workersPerRefresh` workers. Returns
   * the snapshots that are new (raw snapshots only: what progress adds up).
   */
  async refresh(): Promise<Snapshot[]> {
    const workers = await this.workerIndexes();
    const visit = workers.length <= this.perRefresh ? workers : this.nextWindow(workers);
    const fresh = await this.visit(visit, false);
    return fresh;
  }

  /** Everything there is, for the report: every worker's roll-ups, new snapshots and status. */
  async complete(): Promise<Snapshot[]> {
    return this.visit(await this.workerIndexes(), true);
  }

  private async visit(indexes: number[], all: boolean): Promise<Snapshot[]> {
    const fresh: Snapshot[][] = await mapLimit(indexes, Math.max(1, Math.floor(this.concurrency / 2)), async (i) => {
      const view = this.view(i);
      // Before a report, roll-ups first: the snapshots they cover are then never listed or read.
      if (all) await this.readRollups(i, view);
      const [added] = await Promise.all([this.readSnapshots(i, view), this.readStatus(i)]);
      if (!all && view.rawSince >= COMPACT_AFTER) await this.readRollups(i, view);
      this.compact(view);
      return added;
    });
    return fresh.flat();
  }

  /** The plan's workers; without a plan (an old or damaged run), the worker folders found. */
  private async workerIndexes(): Promise<number[]> {
    if (this.planned) return this.planned.workers.map((w) => w.index);
    this.requests++;
    const names = await this.store.listFolders(layout.workersPrefix(this.runId));
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  private nextWindow(workers: number[]): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.perRefresh; k++) out.push(workers[(this.cursor + k) % workers.length]);
    this.cursor = (this.cursor + this.perRefresh) % workers.length;
    return out;
  }

  private view(i: number): WorkerView {
    let v = this.views.get(i);
    if (!v) this.views.set(i, (v = new WorkerView()));
    return v;
  }

  private async readSnapshots(i: number, view: WorkerView): Promise<Snapshot[]> {
    this.requests++;
    const listed = await this.store.list(layout.snapshotsPrefix(this.runId, i), { startAfter: view.lastSnapshot });
    // Keys tried before and still unreadable are tried again.
    const retry = [...this.unreadable.keys()].filter((k) => k.startsWith(layout.snapshotsPrefix(this.runId, i)));
    const keys = [...new Set([...retry, ...listed])].filter((k) => k.endsWith('.json') && !this.refused.has(k));
    if (listed.length > 0) view.lastSnapshot = listed[listed.length - 1];
    const added: Snapshot[] = [];
    const read = await mapLimit(keys, 4, (key) => this.read<Snapshot>(key));
    read.forEach((s, k) => {
      if (s === undefined || !this.accept(s, keys[k])) return;
      view.held.set(keys[k], s);
      view.rawSince++;
      added.push(s);
    });
    return added;
  }

  private async readStatus(i: number): Promise<void> {
    const key = layout.status(this.runId, i);
    const st = await this.read<WorkerStatus>(key);
    if (st === undefined) return;
    if (typeof st !== 'object' || st === null || st.index !== i) {
      this.unreadable.set(key, `its index is ${JSON.stringify((st as WorkerStatus | null)?.index)}, not ${i}`);
      return;
    }
    this.statuses.set(i, st);
  }

  /**
   * Reads the worker's roll-ups not yet read, coarsest level first; a finer level is listed only
   * after what the coarser ones cover, and so are the snapshots after that.
   */
  private async readRollups(i: number, view: WorkerView): Promise<void> {
    for (const { level } of [...ROLLUP_LEVELS].reverse()) {
      const prefix = layout.rollupsPrefix(this.runId, i, level);
      // Keys are <seqFrom>-<seqTo>: '~' sorts after every digit, so this skips whatever starts
      // at or before the last covered snapshot.
      const after = maxKey(view.lastRollup.get(level), view.coveredTo >= 0 ? `${prefix}${pad(view.coveredTo)}-~` : undefined);
      this.requests++;
      const keys = (await this.store.list(prefix, { startAfter: after })).filter((k) => k.endsWith('.json'));
      if (keys.length > 0) view.lastRollup.set(level, keys[keys.length - 1]);
      const read = await mapLimit(keys, 4, (key) => this.read<Snapshot>(key));
      read.forEach((s, k) => {
        if (s === undefined || !this.accept(s, keys[k])) return;
        view.held.set(keys[k], s);
        if (isRollup(s)) view.coveredTo = Math.max(view.coveredTo, s.rollup.seqTo);
      });
    }
    if (view.coveredTo >= 0) view.lastSnapshot = maxKey(view.lastSnapshot, layout.snapshot(this.runId, i, view.coveredTo));
    view.rawSince = 0;
  }

  /** Keeps, of what the view holds, the cover of each interval once; drops what is covered. */
  private compact(view: WorkerView): void {
    const { chosen, conflicts } = selectCover([...view.held.values()]);
    if (chosen.length === view.held.size) return;
    const keep = new Set(chosen);
    for (const [key, s] of view.held) {
      if (keep.has(s)) continue;
      view.held.delete(key);
      const conflict = isRollup(s) ? conflicts.find((c) => c.seqFrom === s.rollup.seqFrom && c.seqTo === s.rollup.seqTo) : undefined;
      if (conflict) this.refused.set(key, conflict.reason);
    }
  }

  private accept(s: Snapshot, key: string): boolean {
    const problem = snapshotProblem(s, key, this.runId, this.planned);
    if (problem) this.refused.set(key, problem);
    return problem === undefined;
  }

  /**
   * An object's JSON, or undefined when it cannot be read whole now (listed in `unreadable`
   * until a later read succeeds) or is gone.
   */
  private async read<T>(key: string): Promise<T | undefined> {
    this.requests++;
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

/** Raw snapshots a worker's view holds before its roll-ups are looked for (two minutes at 5 s). */
const COMPACT_AFTER = 24;

function pad(seq: number): string {
  return String(seq).padStart(6, '0');
}

function maxKey(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
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
