import { makePlan } from '../../cli/plan';
import { mergeSnapshots } from '../../cli/merge/merge';
import { buildReport } from '../../cli/report/build';
import type { Report } from '../../cli/report/types';
import { Recorder } from '../../worker/metrics/recorder';
import type { Health, Snapshot } from '../../worker/metrics/snapshot';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import { defineScenario } from '../../worker/scenario/define';

export interface SyntheticOptions {
  /** Extra metric names recorded alongside the usual ones (e.g. hostile ones). */
  extraMetrics?: string[];
  /** 1-second intervals. @default 40 */
  intervals?: number;
  /** Worker 1 is saturated in these intervals (0-based, inclusive). @default [14, 20]; null for none */
  saturated?: [number, number] | null;
  thresholds?: Record<string, string[]>;
}

export interface SyntheticRun {
  plan: Plan;
  snapshots: Snapshot[];
  statuses: Map<number, WorkerStatus>;
}

/**
 * A report built the real way (Recorder → snapshots → mergeSnapshots → buildReport) from two
 * workers over `intervals` seconds: an HTTP API and a WebSocket echo with a ramp, some errors,
 * and worker 1 saturated for a stretch (its latencies spike then). Deterministic.
 */
export function syntheticReport(o: SyntheticOptions = {}): Report {
  const { plan, snapshots, statuses } = syntheticRun(o);
  return buildReport({ plan, merged: mergeSnapshots(snapshots, plan.intervalMs), statuses });
}

/** What such a run leaves in the store: its plan, every worker's snapshots, their final statuses. */
export function syntheticRun(o: SyntheticOptions = {}): SyntheticRun {
  const intervals = o.intervals ?? 40;
  const sat = o.saturated === undefined ? [14, 20] : o.saturated;
  const t0 = 1_700_000_000_000;
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const names = ['http.GET /items/:id', 'http.POST /orders', 'ws.connect', 'ws.echo', ...(o.extraMetrics ?? [])];
  const base: Record<string, number> = { 'http.GET /items/:id': 12, 'http.POST /orders': 35, 'ws.connect': 4, 'ws.echo': 2 };

  const snapshots: Snapshot[] = [];
  for (const worker of [0, 1]) {
    const r = new Recorder(worker, t0);
    for (let i = 0; i < intervals; i++) {
      const saturated = worker === 1 && sat !== null && i >= sat[0] && i <= sat[1];
      const ramp = Math.min(1, (i + 1) / 10);
      const users = Math.round(40 * ramp) + worker * 3;
      for (let u = 0; u < users; u++) {
        r.userStarted();
        if (u % 4 !== 3) r.connectionOpened();
      }
      for (const name of names) {
        const n = Math.round(20 * ramp) + 5;
        for (let k = 0; k < n; k++) {
          const tail = rnd() < 0.03 ? 6 : 1;
          const slow = saturated ? 8 : 1;
          r.latency(name, (base[name] ?? 5) * (0.6 + rnd()) * tail * slow);
          r.op();
        }
      }
      if (i % 7 === 3) r.error('HTTP 503');
      if (i > 25 && i % 5 === 0) r.error('ECONNRESET');
      r.arrival(true);
      r.bytes(1200, 5400);
      r.count('check item ok: pass', 20);
      const health: Health = saturated
        ? { cpuPct: round1(97 + rnd() * 3), loopLagP99Ms: round1(80 + rnd() * 60), loopLagMaxMs: 240, rssMb: 180, saturated: true }
        : { cpuPct: round1(20 + rnd() * 25 + worker * 5), loopLagP99Ms: round1(2 + rnd() * 6), loopLagMaxMs: 12, rssMb: 120, saturated: false };
      snapshots.push(r.cut(health, i === intervals - 1, t0 + (i + 1) * 1000));
      for (let u = 0; u < users; u++) {
        r.userEnded();
        if (u % 4 !== 3) r.connectionClosed();
      }
    }
  }
  const scenario = defineScenario({
    name: 'shop-api',
    load: { users: 40, duration: `${intervals}s` },
    user: async () => {},
    thresholds: o.thresholds ?? { 'http.GET /items/:id': ['p(95) < 250'], 'ws.echo': ['p(99) < 20'], errors: ['rate < 0.05'] },
  });
  const plan = makePlan({ runId: '20261123-120000-shop-api-abcd', scenario, scenarioFile: '/s.ts', target: 'http://127.0.0.1:8080', workers: 2, staggerMs: 2000, seed: 7, intervalMs: 1000, now: t0 });
  const done = (index: number): WorkerStatus => ({ index, state: 'done', host: 'h', pid: 1, startedAt: t0, endedAt: t0 + intervals * 1000, exitCode: 0 });
  return { plan, snapshots, statuses: new Map([[0, done(0)], [1, done(1)]]) };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
