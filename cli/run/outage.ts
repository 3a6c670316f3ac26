/**
 * Keeping a follow loop going through AWS trouble: which failures it waits out, which end the
 * following, and the lines the person sees meanwhile. Errors are classified by
 * cli/aws/error-kind.ts, never by message text.
 */
import { classifyError, describeError, type ClassifiedError } from '../aws/error-kind';

/** How often a continuing outage is told again, ms. */
const RETELL_MS = 20_000;
/** The longest pause of a follow loop in an outage, ms. */
const MAX_OUTAGE_DELAY_MS = 5_000;
/** Growth of the pause per failure in an outage. */
const OUTAGE_FACTOR = 1.5;

/**
 * An outage of the AWS calls a follow loop makes: it starts at the first failure of a
 * transient kind (or any kind the loop waits out) and ends at the next full round of calls
 * that all succeed. Tells the person when it starts, every 20 s while it lasts ("AWS
 * unreachable for 40 s, retrying"), and when it ends. Clock injected for tests.
 */
export class Outage {
  private since: number | undefined;
  private lastTold = 0;
  private failures = 0;
  private last = '';

  constructor(
    private readonly note: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while calls fail. */
  get active(): boolean {
    return this.since !== undefined;
  }

  /** How long the current outage has lasted, ms (0 when none). */
  get lastedMs(): number {
    return this.since === undefined ? 0 : this.now() - this.since;
  }

  /**
   * Records a failed call (`what`: "S3 list runs/x/workers/", "SSM status of worker 2") and
   * returns its classification; the caller acts on `credentials` and `denied`.
   */
  failed(what: string, err: unknown): ClassifiedError {
    const c = classifyError(err);
    this.failures++;
    this.last = `${what}: ${c.kind === 'other' ? describeError(err) : c.code}`;
    const t = this.now();
    if (this.since === undefined) {
      this.since = t;
      this.lastTold = t;
      if (c.kind === 'transient' || c.kind === 'other') this.note(`AWS call failed (${this.last}); retrying — the workers go on`);
    } else if (t - this.lastTold >= RETELL_MS) {
      this.lastTold = t;
      this.note(`AWS unreachable for ${Math.round((t - this.since) / 1000)} s (${this.last}), retrying`);
    }
    return c;
  }

  /** A round of calls all succeeded: ends the outage, if one was on. */
  ok(): void {
    if (this.since === undefined) return;
    this.note(`AWS reachable again after ${Math.round((this.now() - this.since) / 1000)} s`);
    this.since = undefined;
    this.failures = 0;
  }

  /** The pause before the next round, ms: `baseMs` normally, × 1.5 per failure in an outage, up to 5 s. */
  delayMs(baseMs: number): number {
    if (this.since === undefined) return baseMs;
    return Math.round(Math.min(MAX_OUTAGE_DELAY_MS, Math.max(baseMs, baseMs * OUTAGE_FACTOR ** Math.min(10, this.failures - 1))));
  }

  /** The latest failure, for messages. */
  get lastFailure(): string {
    return this.last;
  }
}
