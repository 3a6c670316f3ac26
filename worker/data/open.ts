import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WORKER_EXIT } from '../plan/plan';
import { layout } from '../store/layout';
import type { Store } from '../store/store';
import { StoreError } from '../store/errors';
import { isBlank, RecordScanner } from './records';
import { DataSet } from './set';
import { FileSource, MemorySource, type RowSource } from './source';
import type { PlannedData } from './types';

export interface OpenDataOptions {
  store: Store;
  runId: string;
  /** This worker's index. */
  index: number;
  data: Record<string, PlannedData>;
  /** Ends this worker's load (a `unique` set with onExhausted 'stop' ran out). */
  stop: () => void;
  /** Where a share larger than one part is kept while the worker runs. @default os.tmpdir() */
  tmpDir?: string;
}

export interface WorkerData {
  sets: Map<string, DataSet>;
  /** Closes and deletes what was opened; safe to call more than once. */
  close(): void;
}

/**
 * Opens this worker's share of every data set, before any user starts. Only the parts holding
 * the worker's rows are fetched, one at a time: a share within one part is kept in memory; a
 * larger one is written to a temporary file as parts arrive and read back a record at a time,
 * so memory holds one part and 8 bytes per record. Resolves with the sets, or with the worker
 * exit code and one line (a store that fails: WORKER_EXIT.store; a part missing: badInput).
 */
export async function openWorkerData(o: OpenDataOptions): Promise<{ data: WorkerData } | { exit: number; message: string }> {
  const sets = new Map<string, DataSet>();
  let dir: string | undefined;
  const close = () => {
    for (const set of sets.values()) set.close();
    sets.clear();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    process.off('exit', close);
  };
  process.once('exit', close);
  const stopRun = () => {
    o.stop();
    // Every other worker sees the marker and stops too; its own deadline bounds it if not.
    o.store.put(layout.stop(o.runId), String(Date.now())).catch(() => undefined);
  };
  try {
    for (const [name, planned] of Object.entries(o.data)) {
      const slice = planned.whole ? { first: 0, count: planned.rows } : planned.slices[o.index] ?? { first: 0, count: 0 };
      const needed = partsFor(planned, slice.first, slice.count);
      const memory = needed.length <= 1 ? new MemorySource() : undefined;
      if (!memory) dir ??= fs.mkdtempSync(path.join(o.tmpDir ?? os.tmpdir(), 'loadfarm-data-'));
      const file = memory ? undefined : new FileSource(path.join(dir!, `${name}.rows`), slice.count);
      const source: RowSource = memory ?? file!;
      for (const part of needed) {
        const body = await o.store.get(part.key);
        if (body === undefined) throw new MissingPart(`data ${name}: part ${part.key} is missing from ${o.store.url}`);
        forEachRecord(body, planned.format === 'csv' ? 'csv' : 'lines', (bytes, k) => {
          const row = part.firstRow + k;
          if (row < slice.first || row >= slice.first + slice.count) return;
          if (memory) memory.add(bytes.toString('utf8'));
          else file!.add(bytes);
        });
        file?.flush();
      }
      const start = planned.whole && planned.rows > 0 ? (planned.slices[o.index]?.first ?? 0) % planned.rows : 0;
      sets.set(name, new DataSet(name, planned, source, start, planned.onExhausted === 'stop' ? stopRun : undefined));
    }
  } catch (err) {
    close();
    if (err instanceof MissingPart) return { exit: WORKER_EXIT.badInput, message: err.message };
    if (err instanceof StoreError) return { exit: WORKER_EXIT.store, message: `data: ${err.message}` };
    throw err;
  }
  return { data: { sets, close } };
}

class MissingPart extends Error {
  override readonly name = 'MissingPart';
}

/** The parts overlapping rows [first, first + count), each with the number of its first row. */
export function partsFor(planned: PlannedData, first: number, count: number): { key: string; firstRow: number }[] {
  const out: { key: string; firstRow: number }[] = [];
  let at = 0;
  for (const p of planned.parts) {
    if (count > 0 && at < first + count && at + p.rows > first) out.push({ key: p.key, firstRow: at });
    at += p.rows;
  }
  return out;
}

/** Calls `each` with the bytes of every non-blank record in `body` (a part) and its number within the part. */
function forEachRecord(body: Buffer, kind: 'csv' | 'lines', each: (bytes: Buffer, k: number) => void): void {
  const scanner = new RecordScanner(kind);
  const ends = scanner.feed(body);
  const last = scanner.end();
  if (last !== undefined) ends.push(last);
  let start = 0;
  let k = 0;
  for (const end of ends) {
    const bytes = body.subarray(start, end);
    start = end;
    if (isBlank(bytes)) continue;
    each(bytes, k++);
  }
}
