import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBlank, parseCsvRecord, stripBreak } from '../../worker/data/records';
import { csvRow } from '../../worker/data/rows';
import { DATA_PART_BYTES, dataPartKey } from '../../worker/data/keys';
import type { DataSource, PlannedData } from '../../worker/data/types';
import { splitLoad, splitRange } from '../../worker/plan/split';
import type { Scenario } from '../../worker/scenario/types';
import type { Store } from '../../worker/store/store';
import { UsageError } from '../errors';
import { fileRecords } from './scan';

/** How many problems of one file are told before the rest are summed up. */
const MAX_PROBLEMS = 10;

/** A part before upload: a byte range of the source file, or bytes made here (JSON arrays). */
type PartBody = { file: string; start: number; end: number } | { bytes: Buffer };

interface ReadSet {
  name: string;
  planned: Omit<PlannedData, 'parts' | 'slices' | 'whole'>;
  parts: { body: PartBody; rows: number; bytes: number }[];
}

export interface PreparedData {
  sets: ReadSet[];
  workers: number;
  /** Lines to show before launch: `unique` sets with fewer rows than the load will draw. */
  warnings: string[];
}

/**
 * Reads and checks every data file of `scenario` (paths relative to `scenarioPath`), before
 * anything is launched: a missing file, bad CSV (line:column), bad JSON, an empty file are a
 * UsageError naming each problem; a `unique` set with fewer rows than users is a warning with
 * the numbers. Files are read in blocks; a JSON array is parsed whole.
 */
export function prepareData(scenario: Scenario, scenarioPath: string, workers: number): PreparedData {
  const declared = Object.entries((scenario.data ?? {}) as Record<string, DataSource>);
  const problems: string[] = [];
  const sets: ReadSet[] = [];
  for (const [name, d] of declared) {
    const file = path.resolve(path.dirname(scenarioPath), d.path);
    const shown = `data ${name}: ${d.path}`;
    if (!fs.existsSync(file)) {
      problems.push(`${shown}: no such file (looked for ${file}; paths are relative to the scenario file)`);
      continue;
    }
    if (!fs.statSync(file).isFile()) {
      problems.push(`${shown}: not a file (${file})`);
      continue;
    }
    const read = d.format === 'json' ? readJson(name, d, file) : readRecords(name, d, file);
    if ('problems' in read) problems.push(...read.problems.map((p) => `${shown}${p}`));
    else sets.push(read);
  }
  if (problems.length > 0) throw new UsageError(problems[0], problems.slice(1));
  return { sets, workers, warnings: shortfalls(scenario, sets, workers) };
}

/** The plan's `data` for run `runId`: store keys, each worker's share. */
export function plannedData(prepared: PreparedData, runId: string): Record<string, PlannedData> | undefined {
  if (prepared.sets.length === 0) return undefined;
  const out: Record<string, PlannedData> = {};
  for (const set of prepared.sets) {
    out[set.name] = {
      ...set.planned,
      parts: set.parts.map((p, i) => ({ key: dataPartKey(runId, set.name, i), rows: p.rows, bytes: p.bytes })),
      slices: splitRange(set.planned.rows, prepared.workers),
      whole: set.planned.mode !== 'unique' && set.parts.length === 1,
    };
  }
  return out;
}

/** Puts every part in the store once (write-once), one part in memory at a time. */
export async function uploadData(store: Store, runId: string, prepared: PreparedData): Promise<void> {
  for (const set of prepared.sets) {
    for (let i = 0; i < set.parts.length; i++) {
      await store.putNew(dataPartKey(runId, set.name, i), readPart(set.parts[i].body));
    }
  }
}

function readPart(body: PartBody): Buffer {
  if ('bytes' in body) return body.bytes;
  const out = Buffer.allocUnsafe(body.end - body.start);
  const fd = fs.openSync(body.file, 'r');
  try {
    fs.readSync(fd, out, 0, out.length, body.start);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** CSV and NDJSON: checked record by record, cut into parts of about DATA_PART_BYTES at record boundaries. */
function readRecords(name: string, d: DataSource, file: string): ReadSet | { problems: string[] } {
  const problems: string[] = [];
  let extra = 0;
  const problem = (line: string) => (problems.length < MAX_PROBLEMS ? problems.push(line) : extra++);
  const parts: ReadSet['parts'] = [];
  let columns: string[] | undefined;
  const types = { ...(d.types ?? {}) };
  let rows = 0;
  let part: { start: number; end: number; rows: number } | undefined;
  const close = () => {
    if (part && part.rows > 0) parts.push({ body: { file, start: part.start, end: part.end }, rows: part.rows, bytes: part.end - part.start });
    part = undefined;
  };
  for (const r of fileRecords(file, d.format === 'csv' ? 'csv' : 'lines')) {
    if (isBlank(r.bytes)) {
      if (part) part.end = r.end;
      continue;
    }
    const text = r.bytes.toString('utf8');
    if (d.format === 'csv' && columns === undefined) {
      const header = parseCsvRecord(stripBreak(text), r.line);
      if (!Array.isArray(header)) return { problems: [`:${header.line}:${header.column}: header: ${header.message}`] };
      const headerProblem = checkHeader(header, types);
      if (headerProblem) return { problems: [`:${r.line}: header: ${headerProblem}`] };
      columns = header;
      continue;
    }
    if (d.format === 'csv') {
      const parsed = csvRow(text, columns!, types, r.line);
      if ('problem' in parsed) problem(`:${parsed.problem.line}:${parsed.problem.column}: ${parsed.problem.message}`);
    } else {
      try {
        JSON.parse(text);
      } catch (err) {
        problem(`:${r.line}: not a JSON value (${(err as Error).message}); NDJSON is one JSON value per line`);
      }
    }
    if (part && part.rows > 0 && part.end - part.start + (r.end - r.start) > DATA_PART_BYTES) close();
    part ??= { start: r.start, end: r.start, rows: 0 };
    part.end = r.end;
    part.rows++;
    rows++;
  }
  close();
  if (extra > 0) problems.push(`: … and ${extra} more problems`);
  if (problems.length > 0) return { problems };
  if (rows === 0) return { problems: [d.format === 'csv' && columns ? ': no rows below the header' : ': the file is empty (no rows)'] };
  const bytes = fs.statSync(file).size;
  return { name, planned: { format: d.format, mode: d.mode, onExhausted: d.onExhausted, columns: columns ?? [], types, rows, bytes }, parts };
}

/** Why a CSV header cannot key rows (empty or repeated names, declared types of absent columns). */
function checkHeader(header: string[], types: Record<string, string>): string | undefined {
  const seen = new Set<string>();
  for (const [i, h] of header.entries()) {
    if (h.trim() === '') return `column ${i + 1} has no name`;
    if (seen.has(h)) return `column ${JSON.stringify(h)} appears twice`;
    seen.add(h);
  }
  const absent = Object.keys(types).filter((t) => !seen.has(t));
  if (absent.length > 0) return `types names ${absent.map((a) => JSON.stringify(a)).join(', ')}, not in the header (${header.join(',')})`;
  return undefined;
}

/** A JSON file holding one array: parsed whole, stored as one value per line. */
function readJson(name: string, d: DataSource, file: string): ReadSet | { problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { problems: [`: not JSON (${(err as Error).message})`] };
  }
  if (!Array.isArray(value)) return { problems: [`: expected a JSON array of rows, got ${value === null ? 'null' : typeof value}`] };
  if (value.length === 0) return { problems: [': the array is empty (no rows)'] };
  const parts: ReadSet['parts'] = [];
  let lines: Buffer[] = [];
  let size = 0;
  const close = () => {
    if (lines.length === 0) return;
    parts.push({ body: { bytes: Buffer.concat(lines) }, rows: lines.length, bytes: size });
    lines = [];
    size = 0;
  };
  for (const row of value) {
    const line = Buffer.from(`${JSON.stringify(row)}\n`);
    if (lines.length > 0 && size + line.length > DATA_PART_BYTES) close();
    lines.push(line);
    size += line.length;
  }
  close();
  const bytes = fs.statSync(file).size;
  return { name, planned: { format: 'json', mode: d.mode, onExhausted: d.onExhausted, columns: [], types: {}, rows: value.length, bytes }, parts };
}

/**
 * Warnings for `unique` sets with fewer rows than the load needs, assuming one row per user
 * (open model: each arrival; closed model: each user's first iteration — each further
 * iteration that draws needs one more).
 */
function shortfalls(scenario: Scenario, sets: ReadSet[], workers: number): string[] {
  const shares = splitLoad(scenario.load, workers).map((s) => s.identities);
  const users = shares.reduce((a, b) => a + b, 0);
  const closed = 'users' in scenario.load;
  const out: string[] = [];
  for (const set of sets) {
    if (set.planned.mode !== 'unique' || set.planned.rows >= users) continue;
    const rows = splitRange(set.planned.rows, workers).map((r) => r.count);
    const perWorker = workers > 1 ? ` (per worker, rows/users: ${rows.map((r, i) => `${r}/${shares[i]}`).join(', ')})` : '';
    out.push(
      `warning: data ${set.name}: ${set.planned.rows} rows for ${users} users${closed ? ' (at least: each iteration draws again)' : ''} in unique mode: ` +
        `${users - set.planned.rows} users will end with DATA_EXHAUSTED${perWorker}`,
    );
  }
  return out;
}
