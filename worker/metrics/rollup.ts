import { createHistogram, encodeHistogram, type Histogram } from './histogram';
import { measuredIn, type Health, type Snapshot } from './snapshot';

/**
 * Roll-ups: a worker's own history compacted into period objects (store:
 * runs/<runId>/workers/<i>/rollups/<level>/<seqFrom>-<seqTo>.json), so that a report reads
 * O(workers × periods) small objects instead of every snapshot.
 *
 * Contract:
 * - A roll-up is a Snapshot of the whole period (sums of counters, errors, checks, ops, bytes,
 *   arrivals and users; histograms added exactly, HDR to HDR; gauges' maxima; the last
 *   interval's gauges) plus `rollup`, which says which snapshots it covers (`seqFrom`..`seqTo`,
 *   whole snapshots only) and keeps what per-interval health cannot be re-derived from sums.
 * - Levels nest: a `1m` roll-up covers whole snapshots, a `1h` one whole `1m` roll-ups. A level
 *   whose period is under two of the level below is skipped (snapshots every 60 s: no `1m`).
 * - Written once when its period is complete, never rewritten; snapshots stay as they are. A
 *   worker that dies mid-period leaves its snapshots: the reader covers the partial period
 *   from them, so every interval counts exactly once.
 */
export type RollupLevel = '1m' | '1h';

export interface RollupInfo {
  level: RollupLevel;
  /** The first and last snapshot sequence numbers covered, inclusive. */
  seqFrom: number;
  seqTo: number;
  /** Snapshots covered (seqTo - seqFrom + 1). */
  snapshots: number;
  /** Intervals in which the worker was saturated, and per metric the values recorded in them. */
  saturatedIntervals: number;
  saturatedCounts: Record<string, number>;
  cpuMaxPct: number;
  loopLagMaxMs: number;
  rssMaxMb: number;
  /** Logical cores of the worker, and why it was saturated in the period (Health.saturatedBy). */
  cores?: number;
  saturatedBy?: Array<'cpu' | 'loop-lag' | 'loop-stall'>;
}

export interface Rollup extends Snapshot {
  rollup: RollupInfo;
}

export const ROLLUP_LEVELS: readonly { level: RollupLevel; spanMs: number }[] = [
  { level: '1m', spanMs: 60_000 },
  { level: '1h', spanMs: 3_600_000 },
];

export function isRollup(s: Snapshot): s is Rollup {
  return (s as Partial<Rollup>).rollup !== undefined;
}

/** One level's period in progress: sums of whatever it was given since the last close. */
class Period {
  private histograms = new Map<string, Histogram>();
  private acc: Rollup | undefined;

  constructor(
    readonly level: RollupLevel,
    /** Items of the level below (snapshots, or roll-ups) per period. */
    readonly size: number,
  ) {}

  count = 0;

  /** Adds one snapshot or roll-up of the level below, with its histograms (not modified). */
  add(s: Snapshot, histograms: ReadonlyMap<string, Histogram>): void {
    for (const [name, h] of histograms) {
      if (h.totalCount === 0) continue;
      let mine = this.histograms.get(name);
      if (mine === undefined) this.histograms.set(name, (mine = createHistogram()));
      mine.add(h);
    }
    const info = isRollup(s) ? s.rollup : undefined;
    const a = (this.acc ??= emptyRollup(s, this.level));
    a.end = s.end;
    a.final = s.final;
    a.rollup.seqTo = info ? info.seqTo : s.seq;
    a.rollup.snapshots += info ? info.snapshots : 1;
    sumInto(a.counters, s.counters);
    sumInto(a.errors, s.errors);
    sumInto(a.generatorErrors, s.generatorErrors);
    for (const [name, c] of Object.entries(s.checks ?? {})) {
      const mine = (a.checks![name] ??= { pass: 0, fail: 0 });
      mine.pass += c.pass;
      mine.fail += c.fail;
    }
    a.ops += s.ops;
    a.bytes.sent += s.bytes.sent;
    a.bytes.received += s.bytes.received;
    a.arrivals.started += s.arrivals.started;
    a.arrivals.dropped += s.arrivals.dropped;
    a.users!.launched += s.users?.launched ?? 0;
    a.users!.cut += s.users?.cut ?? 0;
    a.gauges.users = s.gauges.users;
    a.gauges.connections = s.gauges.connections;
    a.gauges.usersMax = Math.max(a.gauges.usersMax, s.gauges.usersMax);
    a.gauges.connectionsMax = Math.max(a.gauges.connectionsMax, s.gauges.connectionsMax);
    const r = a.rollup;
    if (info) {
      r.saturatedIntervals += info.saturatedIntervals;
      sumInto(r.saturatedCounts, info.saturatedCounts);
      r.cpuMaxPct = Math.max(r.cpuMaxPct, info.cpuMaxPct);
      r.loopLagMaxMs = Math.max(r.loopLagMaxMs, info.loopLagMaxMs);
      r.rssMaxMb = Math.max(r.rssMaxMb, info.rssMaxMb);
      addReasons(r, info.saturatedBy);
      r.cores = Math.max(r.cores ?? 0, info.cores ?? 0);
    } else {
      addReasons(r, s.health.saturatedBy);
      r.cores = Math.max(r.cores ?? 0, s.health.cores ?? 0);
      if (s.health.saturated && measuredIn(s)) {
        r.saturatedIntervals++;
        for (const [name, h] of histograms) if (h.totalCount > 0) r.saturatedCounts[name] = (r.saturatedCounts[name] ?? 0) + h.totalCount;
      }
      r.cpuMaxPct = Math.max(r.cpuMaxPct, s.health.cpuPct);
      r.loopLagMaxMs = Math.max(r.loopLagMaxMs, s.health.loopLagMaxMs);
      r.rssMaxMb = Math.max(r.rssMaxMb, s.health.rssMb);
    }
    this.count++;
  }

  /** The period's roll-up and its histograms (owned by the caller until the next close). */
  close(): { rollup: Rollup; histograms: Map<string, Histogram> } {
    const a = this.acc!;
    const histograms = this.histograms;
    for (const [name, h] of histograms) a.histograms[name] = encodeHistogram(h);
    const r = a.rollup;
    a.health = health(r);
    this.acc = undefined;
    this.histograms = new Map();
    this.count = 0;
    return { rollup: a, histograms };
  }
}

/**
 * Builds one worker's roll-ups from its snapshots as they are cut. Single-threaded. Memory: one
 * histogram per metric per level, whatever the run's length.
 */
export class RollupBuilder {
  private readonly periods: Period[] = [];
  private readonly done: Rollup[] = [];

  /** @param intervalMs the worker's snapshot interval */
  constructor(intervalMs: number) {
    let below = intervalMs;
    for (const { level, spanMs } of ROLLUP_LEVELS) {
      const size = Math.round(spanMs / below);
      if (size < 2) continue;
      this.periods.push(new Period(level, size));
      below = spanMs;
    }
  }

  /** Adds a snapshot just cut, with the interval's live histograms (read, not modified). */
  add(s: Snapshot, histograms: ReadonlyMap<string, Histogram>): void {
    let item: Snapshot = s;
    let hists = histograms;
    for (const p of this.periods) {
      p.add(item, hists);
      if (p.count < p.size) return;
      const closed = p.close();
      this.done.push(closed.rollup);
      item = closed.rollup;
      hists = closed.histograms;
    }
  }

  /** Roll-ups completed since the last call, in the order they completed. */
  take(): Rollup[] {
    return this.done.splice(0);
  }
}

function emptyRollup(first: Snapshot, level: RollupLevel): Rollup {
  const seqFrom = isRollup(first) ? first.rollup.seqFrom : first.seq;
  return {
    v: 1,
    worker: first.worker,
    seq: seqFrom,
    start: first.start,
    end: first.end,
    final: false,
    histograms: {},
    counters: {},
    errors: {},
    generatorErrors: {},
    checks: {},
    ops: 0,
    bytes: { sent: 0, received: 0 },
    arrivals: { started: 0, dropped: 0 },
    users: { launched: 0, cut: 0 },
    gauges: { users: 0, usersMax: 0, connections: 0, connectionsMax: 0 },
    health: { cpuPct: 0, loopLagP99Ms: 0, loopLagMaxMs: 0, rssMb: 0, saturated: false },
    rollup: { level, seqFrom, seqTo: seqFrom, snapshots: 0, saturatedIntervals: 0, saturatedCounts: {}, cpuMaxPct: 0, loopLagMaxMs: 0, rssMaxMb: 0 },
  };
}

/** A period's health as one interval's: the worst of it (CPU and lag maxima, saturated if any interval was). */
function health(r: RollupInfo): Health {
  const h: Health = { cpuPct: r.cpuMaxPct, loopLagP99Ms: r.loopLagMaxMs, loopLagMaxMs: r.loopLagMaxMs, rssMb: r.rssMaxMb, saturated: r.saturatedIntervals > 0 };
  if (r.cores) h.cores = r.cores;
  if (r.saturatedBy?.length) h.saturatedBy = r.saturatedBy;
  return h;
}

function addReasons(r: RollupInfo, reasons: RollupInfo['saturatedBy']) {
  for (const why of reasons ?? []) {
    r.saturatedBy ??= [];
    if (!r.saturatedBy.includes(why)) r.saturatedBy.push(why);
  }
}

function sumInto(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}
