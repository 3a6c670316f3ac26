/**
 * Test data files a scenario declares (`data: { accounts: csv('./accounts.csv') }`) and what
 * the plan says about them. The CLI reads and checks each file before launch and puts it in
 * the store in parts; each worker fetches only the parts holding its rows.
 */

export type DataFormat = 'csv' | 'json' | 'ndjson';

/**
 * How users draw rows (`u.data.<name>.next()`):
 * - `unique`: each row goes to exactly one user across the whole farm; rows are split among
 *   workers like identities (worker i gets a contiguous share); a worker whose share is used up
 *   ends the drawing user with a counted error `DATA_EXHAUSTED`.
 * - `cycle`: rows in order, starting again at the first when the end is reached.
 * - `random`: a row picked with the user's seeded rng (`u.rng`), so a seed replays it.
 * `cycle` and `random` use the whole file on every worker when it travels as one part (a small
 * file), each worker starting its cycle at its own share's first row; for a large file they
 * use the worker's share only, so that no worker fetches rows it does not need.
 */
export type DataMode = 'unique' | 'cycle' | 'random';

/** Types a CSV column's values are converted to; a value that does not convert is a bad CSV cell. */
export type ColumnType = 'string' | 'number' | 'boolean' | 'json';

export interface DataOptions {
  /** @default 'cycle' */
  mode?: DataMode;
  /**
   * What happens when a `unique` share is used up: `'error'` ends the drawing user with a
   * counted error `DATA_EXHAUSTED` (one operation, one error); `'stop'` does that and also stops
   * the whole run (the worker writes the run's stop marker). @default 'error'
   */
  onExhausted?: 'error' | 'stop';
}

export interface CsvOptions extends DataOptions {
  /** Column types by header name; columns not named stay strings. @default all strings */
  types?: Record<string, ColumnType>;
}

/** A CSV row keyed by its header, before any declared types are applied. */
export type Row = Record<string, unknown>;

export const DATA_BRAND = Symbol.for('loadfarm.data');

/** What `csv()`, `json()` and `ndjson()` return: a declaration; nothing is read until a run. */
export interface DataSource<T = Row> {
  readonly [DATA_BRAND]: true;
  readonly format: DataFormat;
  /** As written in the scenario: relative paths are relative to the scenario file. */
  readonly path: string;
  readonly mode: DataMode;
  readonly onExhausted: 'error' | 'stop';
  readonly types?: Readonly<Record<string, ColumnType>>;
  /** Carries the row type only; never set. */
  readonly __row?: T;
}

/** One data set as a user sees it: `u.data.accounts`. */
export interface DataView<T = Row> {
  /**
   * The next row by the set's mode: a fresh object each call. Throws a LoadError
   * `DATA_EXHAUSTED` (already counted: one operation, one error) when a `unique` share is used up.
   */
  next<R = T>(): R;
  /** Rows this worker can draw from. */
  readonly size: number;
}

/** Every data set of the scenario, by name. */
export type DataViews = Readonly<Record<string, DataView>>;

/**
 * One data set in the plan (plan.json `data[name]`). Parts hold whole records in file order:
 * CSV records without the header, or one JSON value per line (JSON arrays are stored so).
 */
export interface PlannedData {
  format: DataFormat;
  mode: DataMode;
  onExhausted: 'error' | 'stop';
  /** CSV header, in order; empty for JSON and NDJSON. */
  columns: string[];
  types: Record<string, ColumnType>;
  /** Records in the file. */
  rows: number;
  /** Bytes of the source file. */
  bytes: number;
  /** Store keys (runs/<runId>/data/<name>/<part>) in order, with the records each holds. */
  parts: { key: string; rows: number; bytes: number }[];
  /** Each worker's share by index: rows [first, first + count), split like identities. */
  slices: { first: number; count: number }[];
  /** True when every worker draws from all rows (cycle/random of a one-part file). */
  whole: boolean;
}
