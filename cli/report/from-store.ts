import { layout } from '../../worker/store/layout';
import type { Plan } from '../../worker/plan/plan';
import type { FleetWorkerState } from '../fleet/fleet';
import { mergeSnapshots } from '../merge/merge';
import type { RunReader } from '../merge/reader';
import { buildReport } from './build';
import type { Report } from './types';

export interface LiveFacts {
  /** What the fleet saw of each worker while the run was followed. */
  fleet?: Map<number, FleetWorkerState>;
  /** True when the person stopped the run from this CLI. */
  stopped?: boolean;
}

/**
 * The report of a run from what its reader read of the store. A live run adds what its fleet
 * saw; a re-render (`loadfarm report`) reaches the same status from the store alone: the stop
 * marker, the workers' statuses, which workers wrote a final snapshot, and the objects that
 * could not be merged. Reads what the reader has not yet read first (every worker's roll-ups,
 * new snapshots and status).
 */
export async function reportFromStore(reader: RunReader, plan: Plan, live: LiveFacts = {}): Promise<Report> {
  await reader.complete();
  const marker = live.stopped === true || (await reader.store.get(layout.stop(plan.runId))) !== undefined;
  const merged = mergeSnapshots(reader.snapshots, plan.intervalMs);
  return buildReport({ plan, merged, statuses: reader.statuses, fleet: live.fleet, stopped: marker, unusable: reader.unusable() });
}
