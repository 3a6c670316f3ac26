import { DATA_BRAND, type CsvOptions, type DataFormat, type DataOptions, type DataSource } from './types';

/** A CSV file with a header line; rows are objects keyed by the header (values strings unless `types` says). */
export function csv<T = Record<string, string>>(path: string, options: CsvOptions = {}): DataSource<T> {
  return source<T>('csv', path, options, options.types);
}

/** A JSON file holding one array; each element is a row. */
export function json<T = unknown>(path: string, options: DataOptions = {}): DataSource<T> {
  return source<T>('json', path, options);
}

/** Newline-delimited JSON: one row per non-empty line. */
export function ndjson<T = unknown>(path: string, options: DataOptions = {}): DataSource<T> {
  return source<T>('ndjson', path, options);
}

/** Checked by validateScenario (worker/data/validate.ts), not here, so that every problem is told at once. */
function source<T>(format: DataFormat, path: string, options: DataOptions, types?: CsvOptions['types']): DataSource<T> {
  return {
    [DATA_BRAND]: true,
    format,
    path,
    mode: options.mode ?? 'cycle',
    onExhausted: options.onExhausted ?? 'error',
    ...(types ? { types: { ...types } } : {}),
  } as DataSource<T>;
}

export function isDataSource(value: unknown): value is DataSource {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DATA_BRAND] === true;
}
