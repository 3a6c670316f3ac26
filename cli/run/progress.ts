import { Counts, Entries, readEncoded } from '../merge/counts';
import { formatDuration } from '../../worker/scenario/duration';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { FleetWorkerState } from '../fleet/fleet';

export interface ProgressView {
  elapsedMs: number;
  workersUp: number;
  workers: number;
  users: number;
  connections: number;
  rps: number;
  p99Ms: number | null;
  /** Operations and failed operations so far (report.json's `requests` and errors), all workers. */
  requests: number;
  errors: number;
  saturated: number[];
}

/**
 * The live view: totals so far plus the latest interval of each worker. Fed with each batch of
 * new snapshots; does not keep snapshots itself.
 */
export class ProgressTracker {
  private latest = new Map<number, Snapshot>();
  private errors = 0;
  private requests = 0;
  /** p99 (ms) of the latest snapshots, read once per change of them (views come every poll). */
  private p99: number | null | undefined;
  private readonly counts = new Counts();
  private readonly entries = new Entries();

  add(snapshots: readonly Snapshot[]): void {
    for (const s of snapshots) {
      const prev = this.latest.get(s.worker);
      if (!prev || prev.seq < s.seq) {
        this.latest.set(s.worker, s);
        this.p99 = undefined;
      }
      this.requests += s.ops;
      for (const n of Object.values(s.errors)) this.errors += n;
      for (const n of Object.values(s.generatorErrors)) this.errors += n;
    }
  }

  view(elapsedMs: number, states: FleetWorkerState[]): ProgressView {
    let users = 0;
    let connections = 0;
    let rps = 0;
    const saturated: number[] = [];
    const readP99 = this.p99 === undefined;
    for (const s of this.latest.values()) {
      if (s.final) continue;
      users += s.gauges.users;
      connections += s.gauges.connections;
      const seconds = Math.max(0.001, (s.end - s.start) / 1000);
      rps += s.ops / seconds;
      if (readP99) {
        for (const name in s.histograms) {
          if (name.startsWith('loadfarm.')) continue;
          readEncoded(s.histograms[name], this.entries);
          this.counts.add(this.entries);
        }
      }
      if (s.health.saturated) saturated.push(s.worker);
    }
    if (readP99) {
      this.p99 = this.counts.total > 0 ? this.counts.percentiles([99])[0] / 1000 : null;
      this.counts.clear();
    }
    return {
      elapsedMs,
      workersUp: states.filter((s) => s.state === 'running').length,
      workers: states.length,
      users,
      connections,
      rps,
      p99Ms: this.p99 ?? null,
      requests: this.requests,
      errors: this.errors,
      saturated,
    };
  }
}

export function progressLine(v: ProgressView): string {
  const p99 = v.p99Ms === null ? '-' : `${v.p99Ms >= 100 ? v.p99Ms.toFixed(0) : v.p99Ms.toFixed(1)}ms`;
  const sat = v.saturated.length > 0 ? ` · SATURATED: worker ${v.saturated.join(',')}` : '';
  return `${formatDuration(v.elapsedMs).padStart(6)} · workers ${v.workersUp}/${v.workers} · users ${v.users} · conns ${v.connections} · requests ${v.requests} · ${v.rps.toFixed(0)} req/s · p99 ${p99} · errors ${v.errors}${sat}`;
}
