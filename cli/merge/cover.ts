import { isRollup } from '../../worker/metrics/rollup';
import type { Snapshot } from '../../worker/metrics/snapshot';

/** An object left out of a cover because it overlaps another only in part: it cannot be trusted. */
export interface CoverConflict {
  worker: number;
  seqFrom: number;
  seqTo: number;
  reason: string;
}

/**
 * Picks, for each worker, the fewest objects that cover each of its snapshot intervals exactly
 * once: the coarsest roll-ups first (1h, then 1m), then the snapshots no roll-up covers. A
 * roll-up that overlaps a chosen one in part is left out and reported (roll-ups nest by
 * construction; a partial overlap means a forged or damaged object).
 * Pure: `items` may hold snapshots and roll-ups of any workers, in any order, each key once.
 */
export function selectCover(items: readonly Snapshot[]): { chosen: Snapshot[]; conflicts: CoverConflict[] } {
  const byWorker = new Map<number, Snapshot[]>();
  for (const s of items) {
    const list = byWorker.get(s.worker);
    if (list) list.push(s);
    else byWorker.set(s.worker, [s]);
  }
  const chosen: Snapshot[] = [];
  const conflicts: CoverConflict[] = [];
  for (const [worker, list] of byWorker) {
    // Coarsest first: a wider span wins; ties (the same span) keep the first seen.
    const ranked = list
      .map((s) => ({ s, from: isRollup(s) ? s.rollup.seqFrom : s.seq, to: isRollup(s) ? s.rollup.seqTo : s.seq }))
      .sort((a, b) => b.to - b.from - (a.to - a.from) || a.from - b.from);
    const taken: { from: number; to: number }[] = [];
    for (const item of ranked) {
      const overlap = taken.find((t) => item.from <= t.to && t.from <= item.to);
      if (overlap === undefined) {
        taken.push(item);
        chosen.push(item.s);
      } else if (item.from < overlap.from || item.to > overlap.to) {
        conflicts.push({ worker, seqFrom: item.from, seqTo: item.to, reason: `overlaps snapshots ${overlap.from}-${overlap.to} in part` });
      }
    }
  }
  return { chosen, conflicts };
}
