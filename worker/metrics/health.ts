import * as os from 'node:os';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { SATURATION, type Health } from './snapshot';

/** How often the loop-lag probe expects to run, ms: a sample is how late it ran. */
const PROBE_MS = 10;

/** The start of one interval: where `take()` was last called, and the loop's lateness since. */
interface Mark {
  /** performance.now() ms. */
  at: number;
  /** process.cpuUsage() then, µs. */
  cpuUs: number;
  /** The probe's lateness (ns beyond PROBE_MS) from this mark to the next one. */
  lag: RecordableHistogram;
}

export interface HealthMonitorProps {
  /** The shortest window CPU and sustained loop lag are judged over, ms. @default SATURATION.minWindowMs */
  readonly minWindowMs?: number;
}

/**
 * Samples the generator's own health between calls to `take()`. Call `stop()` when done.
 *
 * Each `take()` reports the interval since the previous one. CPU and the sustained-lag rule are
 * judged over at least `minWindowMs`: a shorter interval (the last one of a run, written when the
 * load ends) is folded with the intervals before it, so that 24 ms of flushing cannot read as a
 * pegged CPU. A stall is judged on the interval's own longest lateness.
 */
export class HealthMonitor {
  /** Oldest first; the last is the interval in progress. Older marks are kept only while a short interval may need them. */
  private readonly marks: Mark[];
  private readonly probe: NodeJS.Timeout;
  private probeAt: number;
  private readonly minWindowMs: number;
  private readonly cores = os.availableParallelism();

  constructor(props: HealthMonitorProps = {}) {
    this.minWindowMs = props.minWindowMs ?? SATURATION.minWindowMs;
    this.probeAt = performance.now();
    this.marks = [{ at: this.probeAt, cpuUs: cpuUs(), lag: createHistogram() }];
    // A JS timer rather than monitorEventLoopDelay: its samples go into histograms that can be
    // added together when intervals are folded.
    this.probe = setInterval(() => {
      const now = performance.now();
      const lateNs = Math.round((now - this.probeAt - PROBE_MS) * 1e6);
      this.probeAt = now;
      this.marks[this.marks.length - 1].lag.record(Math.max(1, lateNs));
    }, PROBE_MS);
    this.probe.unref();
  }

  take(): Health {
    const now = performance.now();
    const cpuNow = cpuUs();
    const marks = this.marks;
    const current = marks[marks.length - 1];
    // A stall still in progress shows as the time since the probe last ran.
    const pendingLateMs = Math.max(0, now - this.probeAt - PROBE_MS);
    const lagMaxMs = Math.max(current.lag.count > 0 ? current.lag.max / 1e6 : 0, pendingLateMs);
    const lagP99Ms = current.lag.count > 0 ? current.lag.percentile(99) / 1e6 : pendingLateMs;
    // That lateness belongs to this interval: the probe's next sample counts from here.
    this.probeAt = now;

    // The window: from the latest mark at least minWindowMs back (the first mark if none is).
    let from = marks.length - 1;
    while (from > 0 && now - marks[from].at < this.minWindowMs) from--;
    const windowMs = Math.max(1e-3, now - marks[from].at);
    let windowLag = current.lag;
    if (from < marks.length - 1) {
      windowLag = createHistogram();
      for (let i = from; i < marks.length; i++) windowLag.add(marks[i].lag);
    }
    const lagP90Ms = windowLag.count > 0 ? windowLag.percentile(90) / 1e6 : 0;
    const cpuPct = round1(((cpuNow - marks[from].cpuUs) / (windowMs * 1000)) * 100);

    // A stall of S ms puts up to S ms on every operation due or in flight while it lasts (open-model
    // latency counts from the due time). S >= 10% of the window means a tenth of the window's
    // timings can carry it, so the window's p90 is the generator's: the bar the sustained-lag rule
    // sets. S >= 1 s is beyond the noise of real targets in any percentile, whatever the window.
    // Below the sustained-lag bar (50 ms), a single hiccup (first requests compiling, a major GC) is not one.
    const stallMs = Math.min(SATURATION.stallMs, Math.max(SATURATION.loopLagP90Ms, SATURATION.stallShare * windowMs));
    const saturatedBy: NonNullable<Health['saturatedBy']> = [];
    if (cpuPct >= SATURATION.cpuPct) saturatedBy.push('cpu');
    if (lagP90Ms >= SATURATION.loopLagP90Ms) saturatedBy.push('loop-lag');
    if (lagMaxMs >= stallMs) saturatedBy.push('loop-stall');

    marks.push({ at: now, cpuUs: cpuNow, lag: createHistogram() });
    // Keep only the marks a later window may start at: the latest one at least minWindowMs back, and after.
    while (marks.length > 1 && now - marks[1].at >= this.minWindowMs) marks.shift();

    return {
      cpuPct,
      cores: this.cores,
      cpuWindowMs: Math.round(windowMs),
      loopLagP99Ms: round1(lagP99Ms),
      loopLagMaxMs: round1(lagMaxMs),
      rssMb: round1(process.memoryUsage.rss() / 1048576),
      saturated: saturatedBy.length > 0,
      saturatedBy,
    };
  }

  stop(): void {
    clearInterval(this.probe);
  }
}

/** CPU time this process has used (user + system, all threads), µs. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function round1(x: number) {
  return Math.round(x * 10) / 10;
}
