import type { UserScope } from '../engine/scope';
import type { Rng } from '../engine/rng';
import { LoadError } from '../protocols/errors';
import { rowOf } from './rows';
import type { RowSource } from './source';
import type { DataView, DataViews, PlannedData } from './types';

/** Error code of a draw from a `unique` share that is used up. */
export const DATA_EXHAUSTED = 'DATA_EXHAUSTED';

/** One data set on one worker: its rows and the worker-wide cursor every user shares. */
export class DataSet {
  private cursor = 0;

  /**
   * @param start where a cycle begins (the worker's own first row of a whole file, so workers
   *   do not all begin with row 0)
   * @param onExhausted told once, at the first draw that finds a `unique` share used up
   */
  constructor(
    readonly name: string,
    private readonly planned: PlannedData,
    private readonly source: RowSource,
    private readonly start = 0,
    private readonly onExhausted?: () => void,
  ) {}

  get size(): number {
    return this.source.count;
  }

  /**
   * The next row for a user: `scope` records a DATA_EXHAUSTED failure (one operation, one
   * error) and `rng` draws random rows. Throws that failure, already counted, as a LoadError.
   */
  draw(scope: UserScope, rng: () => Rng): unknown {
    const n = this.source.count;
    let i: number;
    if (n === 0 || (this.planned.mode === 'unique' && this.cursor >= n)) throw this.exhausted(scope);
    if (this.planned.mode === 'unique') i = this.cursor++;
    else if (this.planned.mode === 'cycle') i = (this.start + this.cursor++) % n;
    else i = rng().int(0, n - 1);
    return rowOf(this.planned.format, this.source.record(i), this.planned.columns, this.planned.types);
  }

  private told = false;
  private exhausted(scope: UserScope): Error {
    const err = new LoadError(
      DATA_EXHAUSTED,
      `data ${this.name}: ${this.planned.mode === 'unique' ? `this worker's ${this.source.count} rows are used up (unique: each row once)` : 'this worker has no rows'}`,
      false,
    );
    if (!this.told) {
      this.told = true;
      this.onExhausted?.();
    }
    return scope.fail(err, `data ${this.name}`);
  }

  close(): void {
    this.source.close();
  }
}

const attached = new WeakMap<object, ReadonlyMap<string, DataSet>>();

/** Makes `sets` what users of `runtime` see as `u.data`. */
export function attachData(runtime: object, sets: ReadonlyMap<string, DataSet>): void {
  attached.set(runtime, sets);
}

/** `u.data` for one user: a view per data set; made on the user's first touch of `u.data`. */
export function dataViews(runtime: object, scope: UserScope, rng: () => Rng): DataViews {
  const sets = attached.get(runtime);
  if (!sets) return NO_DATA;
  const views: Record<string, DataView> = {};
  for (const [name, set] of sets) {
    views[name] = {
      next: <R>() => set.draw(scope, rng) as R,
      get size() {
        return set.size;
      },
    };
  }
  return Object.freeze(views);
}

/** `u.data` where no data sets were opened (a scenario without `data`, or `loadfarm validate`). */
const NO_DATA: DataViews = new Proxy(Object.freeze({}) as DataViews, {
  get(target, key) {
    if (typeof key !== 'string') return Reflect.get(target, key);
    throw new TypeError(`u.data.${key}: no data sets are open here (declare data: { ${key}: csv('./file.csv') } in the scenario; loadfarm run opens them)`);
  },
});
