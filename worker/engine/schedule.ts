import type { PlannedPhase } from '../plan/split';

/**
 * The open model's farm-wide arrival schedule. Arrival k (k = 0, 1, 2, …) is due at the time
 * t where the cumulative expected arrivals ∫rate reach k; within a ramp the rate moves
 * linearly, so t solves a quadratic. Times are milliseconds from the worker's start.
 */
export class ArrivalSchedule {
  private readonly starts: number[] = []; // phase start, ms
  private readonly before: number[] = []; // expected arrivals before the phase
  private cursor = 0;

  constructor(private readonly phases: readonly PlannedPhase[]) {
    let t = 0;
    let n = 0;
    for (const p of phases) {
      this.starts.push(t);
      this.before.push(n);
      t += p.durationMs;
      n += ((p.arrivalRate + p.rampTo) / 2) * (p.durationMs / 1000);
    }
  }

  /** Due time of arrival k in ms, or undefined when the schedule ends before it. Calls must not go backwards in k. */
  timeOf(k: number): number | undefined {
    while (this.cursor < this.phases.length) {
      const p = this.phases[this.cursor];
      const local = k - this.before[this.cursor];
      const seconds = p.durationMs / 1000;
      const inPhase = ((p.arrivalRate + p.rampTo) / 2) * seconds;
      if (local < inPhase - 1e-9) {
        const a = (p.rampTo - p.arrivalRate) / (2 * seconds);
        const r0 = p.arrivalRate;
        // t = 2k / (r0 + sqrt(r0² + 4ak)): the stable root of a·t² + r0·t − k = 0, also for a → 0.
        const t = local <= 0 ? 0 : (2 * local) / (r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * local)));
        return this.starts[this.cursor] + Math.min(t * 1000, p.durationMs);
      }
      this.cursor++;
    }
    return undefined;
  }
}
