import { layout } from '../store/layout';

/** Store key of part `part` of data set `name`: runs/<runId>/data/<name>/<part, 6 digits>. */
export function dataPartKey(runId: string, name: string, part: number): string {
  return `${layout.run(runId)}data/${name}/${String(part).padStart(6, '0')}`;
}

/**
 * Size of one stored part, bytes: files up to this size travel as one part that every worker
 * reads whole (small files); larger files are cut into parts of about this size at record
 * boundaries, and each worker fetches only the parts that hold its rows (a record longer than
 * this is a part of its own).
 */
export const DATA_PART_BYTES = 1024 * 1024;
