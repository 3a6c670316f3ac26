import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { SATURATION, type Health } from './snapshot';

/** Samples the generator's own health between calls to `take()`. Call `stop()` when done. */
export class HealthMonitor {
  private readonly loop: IntervalHistogram;
  private cpu = process.cpuUsage();
  private at = performance.now();

  constructor() {
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
  }

  take(): Health {
    const now = performance.now();
    const cpu = process.cpuUsage(this.cpu);
    const elapsedUs = Math.max(1, (now - this.at) * 1000);
    const cpuPct = round1(((cpu.user + cpu.system) / elapsedUs) * 100);
    // The delay histogram includes the sampling resolution itself (10 ms): report lag beyond it.
    const lagP99 = this.loop.count > 0 ? Math.max(0, this.loop.percentile(99) / 1e6 - 10) : 0;
    const lagMax = this.loop.count > 0 ? Math.max(0, this.loop.max / 1e6 - 10) : 0;
    const lagP90 = this.loop.count > 0 ? Math.max(0, this.loop.percentile(90) / 1e6 - 10) : 0;
    this.loop.reset();
    this.cpu = process.cpuUsage();
    this.at = now;
    return {
      cpuPct,
      loopLagP99Ms: round1(lagP99),
      loopLagMaxMs: round1(lagMax),
      rssMb: round1(process.memoryUsage.rss() / 1048576),
      saturated: lagP90 >= SATURATION.loopLagP90Ms || cpuPct >= SATURATION.cpuPct,
    };
  }

  stop(): void {
    this.loop.disable();
  }
}

function round1(x: number) {
  return Math.round(x * 10) / 10;
}
