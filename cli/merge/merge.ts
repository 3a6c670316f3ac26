import type { Histogram } from '../../worker/metrics/histogram';
import { Counts, Entries, readEncoded } from './counts';
import { measuredIn, type Snapshot } from '../../worker/metrics/snapshot';
import { isRollup } from '../../worker/metrics/rollup';

/** The most timeline points a report carries: longer runs get coarser points. */
export const MAX_TIMELINE_POINTS = 300;

/** A run's totals, merged from every snapshot of every worker. Latencies stay as histograms (µs). */
export interface Merged {
  /** Epoch ms: earliest snapshot start, latest snapshot end (0 when there are none). */
  start: number;
  end: number;
  metrics: Map<string, Histogram>;
  /** Per metric, how many of its values were recorded in intervals where their worker was saturated. */
  saturatedCounts: Map<string, number>;
  counters: Record<string, number>;
  errors: Record<string, number>;
  generatorErrors: Record<string, number>;
  /** Checks by name: pass and fail counts. */
  checks: Record<string, { pass: number; fail: number }>;
  ops: number;
  bytes: { sent: number; received: number };
  arrivals: { started: number; dropped: number };
  /** Users launched (either model) and users cut at the grace deadline. */
  users: { launched: number; cut: number };
  workers: Map<number, WorkerTotals>;
  timeline: TimelinePoint[];
  /** Histograms that could not be decoded: left out of the totals, and named in the report. */
  unreadableHistograms: { worker: number; seq: number; metric: string; reason: string }[];
}

export interface WorkerTotals {
  snapshots: number;
  first: number;
  last: number;
  final: boolean;
  ops: number;
  errors: number;
  saturatedIntervals: number;
  cpuMaxPct: number;
  loopLagMaxMs: number;
  rssMaxMb: number;
  usersMax: number;
  connectionsMax: number;
  /** Logical cores the worker could use (0 when its snapshots do not say). */
  cores: number;
  /** Why it was saturated, over all its saturated intervals. */
  saturatedBy: Set<string>;
}

/** One interval of the whole farm, for charts. `t` is seconds from the run's start. */
export interface TimelinePoint {
  t: number;
  ops: number;
  errors: number;
  errorsByCode: Record<string, number>;
  users: number;
  connections: number;
  metrics: Record<string, { count: number; p50: number; p95: number; p99: number }>;
  /** Workers that were saturated in this interval, with their CPU % and loop lag. */
  saturated: number[];
  health: Record<number, { cpuPct: number; loopLagP99Ms: number }>;
}

/**
 * Adds every snapshot (or roll-up: worker/metrics/rollup.ts; the caller gives each interval
 * once) up. Percentiles come from the summed histograms, never from averaging percentiles.
 * Timeline points are the snapshots' end times rounded into buckets of whole `intervalMs`,
 * coarser for long runs (at most MAX_TIMELINE_POINTS).
 * Each encoded histogram is read once, into the run's totals and its timeline point (counts.ts).
 */
export function mergeSnapshots(snapshots: readonly Snapshot[], intervalMs: number, runStart?: number): Merged {
  const m: Merged = {
    start: 0,
    end: 0,
    metrics: new Map(),
    saturatedCounts: new Map(),
    counters: {},
    errors: {},
    generatorErrors: {},
    checks: {},
    ops: 0,
    bytes: { sent: 0, received: 0 },
    arrivals: { started: 0, dropped: 0 },
    users: { launched: 0, cut: 0 },
    workers: new Map(),
    timeline: [],
    unreadableHistograms: [],
  };
  if (snapshots.length === 0) return m;
  let start = Infinity;
  let end = 0;
  for (const s of snapshots) {
    if (s.start < start) start = s.start;
    if (s.end > end) end = s.end;
  }
  m.start = runStart ?? start;
  m.end = end;
  // A few hundred points at most, whatever the run's length: whole intervals per point.
  intervalMs = Math.max(intervalMs, Math.ceil((end - m.start) / MAX_TIMELINE_POINTS / intervalMs) * intervalMs);

  // Snapshots grouped by timeline point, so that one point's counts are summed, read and cleared
  // before the next: memory holds the totals and one point, however long the run.
  const byPoint = new Map<number, Snapshot[]>();
  for (const s of snapshots) {
    const b = Math.max(0, Math.ceil((s.end - m.start) / intervalMs - 0.5));
    const list = byPoint.get(b);
    if (list) list.push(s);
    else byPoint.set(b, [s]);
  }
  const totals = new Map<string, Counts>();
  const point = new Map<string, Counts>();
  const entries = new Entries();
  const countsFor = (map: Map<string, Counts>, name: string) => {
    let c = map.get(name);
    if (!c) map.set(name, (c = new Counts()));
    return c;
  };

  for (const b of [...byPoint.keys()].sort((x, y) => x - y)) {
    const p: TimelinePoint = { t: (b * intervalMs) / 1000, ops: 0, errors: 0, errorsByCode: {}, users: 0, connections: 0, metrics: {}, saturated: [], health: {} };
    const users = new Map<number, number>();
    const conns = new Map<number, number>();
    for (const raw of byPoint.get(b)!) {
      const s = current(raw);
      for (const name in s.histograms) {
        try {
          readEncoded(s.histograms[name], entries);
        } catch (err) {
          m.unreadableHistograms.push({ worker: s.worker, seq: s.seq, metric: name, reason: (err as Error).message });
          continue;
        }
        countsFor(totals, name).add(entries);
        countsFor(point, name).add(entries);
        const spoiled = isRollup(s) ? s.rollup.saturatedCounts[name] ?? 0 : s.health.saturated ? entries.total : 0;
        if (spoiled > 0) m.saturatedCounts.set(name, (m.saturatedCounts.get(name) ?? 0) + spoiled);
      }
      sumInto(m.counters, s.counters);
      sumInto(m.errors, s.errors);
      sumInto(m.generatorErrors, s.generatorErrors);
      sumInto(p.errorsByCode, s.errors);
      const errs = total(s.errors);
      m.ops += s.ops;
      m.bytes.sent += s.bytes.sent;
      m.bytes.received += s.bytes.received;
      m.arrivals.started += s.arrivals.started;
      m.arrivals.dropped += s.arrivals.dropped;
      m.users.launched += s.users?.launched ?? 0;
      m.users.cut += s.users?.cut ?? 0;
      for (const name in s.checks) {
        const c = (m.checks[name] ??= { pass: 0, fail: 0 });
        c.pass += s.checks[name].pass;
        c.fail += s.checks[name].fail;
      }
      p.ops += s.ops;
      p.errors += errs;
      users.set(s.worker, Math.max(users.get(s.worker) ?? 0, s.gauges.usersMax));
      conns.set(s.worker, Math.max(conns.get(s.worker) ?? 0, s.gauges.connectionsMax));
      p.health[s.worker] = { cpuPct: s.health.cpuPct, loopLagP99Ms: s.health.loopLagP99Ms };
      if (s.health.saturated && !p.saturated.includes(s.worker)) p.saturated.push(s.worker);
      addToWorker(m, s, errs);
    }
    for (const [name, c] of point) {
      if (c.total === 0) continue;
      const [p50, p95, p99] = c.percentiles([50, 95, 99]);
      p.metrics[name] = { count: c.total, p50: p50 / 1000, p95: p95 / 1000, p99: p99 / 1000 };
      c.clear();
    }
    p.users = total(Object.fromEntries(users));
    p.connections = total(Object.fromEntries(conns));
    p.saturated.sort((x, y) => x - y);
    m.timeline.push(p);
  }
  for (const [name, c] of totals) m.metrics.set(name, c.toHistogram());
  return m;
}

/**
 * A snapshot in today's terms. Snapshots written before checks became their own family carry
 * them as counters `check <name>: pass|fail`, as errors `check <name>` and inside `ops`: they
 * are moved out, so an old run re-renders with the same definitions as a new one.
 */
function current(s: Snapshot): Snapshot {
  if (s.checks !== undefined) return s;
  const checks: Record<string, { pass: number; fail: number }> = {};
  const counters: Record<string, number> = {};
  let checkOps = 0;
  for (const [k, v] of Object.entries(s.counters)) {
    const m = /^check (.+): (pass|fail)$/.exec(k);
    if (!m) {
      counters[k] = v;
      continue;
    }
    const c = (checks[m[1]] ??= { pass: 0, fail: 0 });
    c[m[2] as 'pass' | 'fail'] += v;
    checkOps += v;
  }
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.errors)) if (!(k.startsWith('check ') && checks[k.slice(6)])) errors[k] = v;
  return { ...s, checks, counters, errors, ops: Math.max(0, s.ops - checkOps) };
}

function addToWorker(m: Merged, s: Snapshot, errs: number) {
  let w = m.workers.get(s.worker);
  if (!w) {
    w = { snapshots: 0, first: s.start, last: s.end, final: false, ops: 0, errors: 0, saturatedIntervals: 0, cpuMaxPct: 0, loopLagMaxMs: 0, rssMaxMb: 0, usersMax: 0, connectionsMax: 0, cores: 0, saturatedBy: new Set() };
    m.workers.set(s.worker, w);
  }
  w.snapshots += isRollup(s) ? s.rollup.snapshots : 1;
  w.first = Math.min(w.first, s.start);
  w.last = Math.max(w.last, s.end);
  w.final ||= s.final;
  w.ops += s.ops;
  w.errors += errs;
  if (isRollup(s)) w.saturatedIntervals += s.rollup.saturatedIntervals;
  else if (s.health.saturated && measuredIn(s)) w.saturatedIntervals++;
  w.cpuMaxPct = Math.max(w.cpuMaxPct, s.health.cpuPct);
  w.loopLagMaxMs = Math.max(w.loopLagMaxMs, s.health.loopLagMaxMs);
  w.rssMaxMb = Math.max(w.rssMaxMb, s.health.rssMb);
  w.cores = Math.max(w.cores, s.health.cores ?? 0);
  for (const why of s.health.saturatedBy ?? []) w.saturatedBy.add(why);
  w.usersMax = Math.max(w.usersMax, s.gauges.usersMax);
  w.connectionsMax = Math.max(w.connectionsMax, s.gauges.connectionsMax);
}

function sumInto(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function total(values: Record<string | number, number>): number {
  let sum = 0;
  for (const v of Object.values(values)) sum += v;
  return sum;
}
