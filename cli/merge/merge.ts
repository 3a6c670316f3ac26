import { createHistogram, decodeHistogram, type Histogram } from '../../worker/metrics/histogram';
import type { Snapshot } from '../../worker/metrics/snapshot';

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
  ops: number;
  bytes: { sent: number; received: number };
  arrivals: { started: number; dropped: number };
  workers: Map<number, WorkerTotals>;
  timeline: TimelinePoint[];
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
 * Adds every snapshot up. Percentiles come from the summed histograms, never from averaging
 * percentiles. Timeline points are the snapshots' end times rounded into `intervalMs` buckets.
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
    ops: 0,
    bytes: { sent: 0, received: 0 },
    arrivals: { started: 0, dropped: 0 },
    workers: new Map(),
    timeline: [],
  };
  if (snapshots.length === 0) return m;
  m.start = runStart ?? Math.min(...snapshots.map((s) => s.start));
  m.end = Math.max(...snapshots.map((s) => s.end));
  const buckets = new Map<number, { point: TimelinePoint; histos: Map<string, Histogram>; users: Map<number, number>; conns: Map<number, number> }>();

  for (const s of snapshots) {
    const b = Math.max(0, Math.ceil((s.end - m.start) / intervalMs - 0.5));
    let bucket = buckets.get(b);
    if (!bucket) {
      bucket = {
        point: { t: (b * intervalMs) / 1000, ops: 0, errors: 0, errorsByCode: {}, users: 0, connections: 0, metrics: {}, saturated: [], health: {} },
        histos: new Map(),
        users: new Map(),
        conns: new Map(),
      };
      buckets.set(b, bucket);
    }
    for (const [name, encoded] of Object.entries(s.histograms)) {
      const h = decodeHistogram(encoded);
      add(m.metrics, name, h);
      add(bucket.histos, name, h);
      if (s.health.saturated) m.saturatedCounts.set(name, (m.saturatedCounts.get(name) ?? 0) + h.totalCount);
    }
    sumInto(m.counters, s.counters);
    sumInto(m.errors, s.errors);
    sumInto(m.generatorErrors, s.generatorErrors);
    sumInto(bucket.point.errorsByCode, s.errors);
    const errs = total(s.errors);
    m.ops += s.ops;
    m.bytes.sent += s.bytes.sent;
    m.bytes.received += s.bytes.received;
    m.arrivals.started += s.arrivals.started;
    m.arrivals.dropped += s.arrivals.dropped;
    bucket.point.ops += s.ops;
    bucket.point.errors += errs;
    bucket.users.set(s.worker, Math.max(bucket.users.get(s.worker) ?? 0, s.gauges.usersMax));
    bucket.conns.set(s.worker, Math.max(bucket.conns.get(s.worker) ?? 0, s.gauges.connectionsMax));
    bucket.point.health[s.worker] = { cpuPct: s.health.cpuPct, loopLagP99Ms: s.health.loopLagP99Ms };
    if (s.health.saturated && !bucket.point.saturated.includes(s.worker)) bucket.point.saturated.push(s.worker);

    let w = m.workers.get(s.worker);
    if (!w) {
      w = { snapshots: 0, first: s.start, last: s.end, final: false, ops: 0, errors: 0, saturatedIntervals: 0, cpuMaxPct: 0, loopLagMaxMs: 0, rssMaxMb: 0, usersMax: 0, connectionsMax: 0 };
      m.workers.set(s.worker, w);
    }
    w.snapshots++;
    w.first = Math.min(w.first, s.start);
    w.last = Math.max(w.last, s.end);
    w.final ||= s.final;
    w.ops += s.ops;
    w.errors += errs;
    if (s.health.saturated) w.saturatedIntervals++;
    w.cpuMaxPct = Math.max(w.cpuMaxPct, s.health.cpuPct);
    w.loopLagMaxMs = Math.max(w.loopLagMaxMs, s.health.loopLagMaxMs);
    w.rssMaxMb = Math.max(w.rssMaxMb, s.health.rssMb);
    w.usersMax = Math.max(w.usersMax, s.gauges.usersMax);
    w.connectionsMax = Math.max(w.connectionsMax, s.gauges.connectionsMax);
  }

  m.timeline = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, bucket]) => {
      for (const [name, h] of bucket.histos) {
        bucket.point.metrics[name] = {
          count: h.totalCount,
          p50: h.getValueAtPercentile(50) / 1000,
          p95: h.getValueAtPercentile(95) / 1000,
          p99: h.getValueAtPercentile(99) / 1000,
        };
      }
      bucket.point.users = total(Object.fromEntries(bucket.users));
      bucket.point.connections = total(Object.fromEntries(bucket.conns));
      bucket.point.saturated.sort((a, b) => a - b);
      return bucket.point;
    });
  return m;
}

function add(into: Map<string, Histogram>, name: string, h: Histogram) {
  let target = into.get(name);
  if (!target) {
    target = createHistogram();
    into.set(name, target);
  }
  target.add(h);
}

function sumInto(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function total(values: Record<string | number, number>): number {
  let sum = 0;
  for (const v of Object.values(values)) sum += v;
  return sum;
}
