import { layout } from '../../worker/store/layout';
import type { Plan } from '../../worker/plan/plan';
import type { FleetWorkerState } from '../fleet/fleet';
import { mergeSnapshots } from '../merge/merge';
import type { RunReader } from '../merge/reader';
import { buildReport } from './build';
import { readFleetRecord } from '../fleet/record';
import { RunControl } from '../search/follow';
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
 * could not be merged. The caller reads everything first (`reader.complete()`).
 */
export async function reportFromStore(reader: RunReader, plan: Plan, live: LiveFacts = {}): Promise<Report> {
  // A re-render learns from the fleet record which workers never started, and why.
  let fleet = live.fleet;
  if (fleet === undefined) {
    const record = await readFleetRecord(reader.store, plan.runId).catch(() => undefined);
    const never = (record?.workers ?? []).filter((w) => w.start === 'never-started' || w.start === 'start-failed');
    if (never.length > 0) fleet = new Map(never.map((w) => [w.index, { state: 'never-started' as const, detail: w.detail ?? (w.start === 'start-failed' ? 'the fleet refused to start it' : 'it was never started') }]));
  }
  const marker = live.stopped === true || (await reader.store.get(layout.stop(plan.runId))) !== undefined;
  const merged = mergeSnapshots(reader.snapshots, plan.intervalMs);
  const report = buildReport({ plan, merged, statuses: reader.statuses, fleet, now: live.fleet === undefined ? Date.now() : undefined, stopped: marker, unusable: reader.unusable() });
  // A re-render of a search or of a run a threshold stopped reads their decisions from the store.
  const control = live.fleet === undefined ? RunControl.for(reader.store, plan) : undefined;
  if (!control) return report;
  await control.restore();
  return control.finish(report);
}
