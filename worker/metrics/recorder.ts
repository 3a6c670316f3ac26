import { createHistogram, encodeHistogram, recordMs, type Histogram } from './histogram';
import type { Health, Snapshot } from './snapshot';
import type { RollupBuilder } from './rollup';

/**
 * Collects one worker's measurements for the current interval. Single-threaded: every call
 * comes from the worker's event loop. `cut()` returns the interval's snapshot and starts the next.
 */
export class Recorder {
  private histograms = new Map<string, Histogram>();
  private counters = new Map<string, number>();
  private errors = new Map<string, number>();
  private checks = new Map<string, { pass: number; fail: number }>();
  private generatorErrors = new Map<string, number>();
  private ops = 0;
  private sent = 0;
  private received = 0;
  private started = 0;
  private dropped = 0;
  private launched = 0;
  private cutUsers = 0;
  private users = 0;
  private usersMax = 0;
  private connections = 0;
  private connectionsMax = 0;
  private seq = 0;
  private intervalStart: number;

  /**
   * @param start epoch ms when the first interval begins
   * @param rollups given every snapshot as it is cut, with the interval's histograms
   */
  constructor(
    private readonly worker: number,
    start = Date.now(),
    private readonly rollups?: RollupBuilder,
  ) {
    this.intervalStart = start;
  }

  /** A successful operation's latency in milliseconds. */
  latency(name: string, ms: number): void {
    let h = this.histograms.get(name);
    if (h === undefined) {
      h = createHistogram();
      this.histograms.set(name, h);
    }
    recordMs(h, ms);
  }

  /** Counts one operation attempt (the denominator of the error rate). */
  op(): void {
    this.ops++;
  }

  /** One `u.check`: its own family, never an operation or an error. */
  check(name: string, ok: boolean): void {
    let c = this.checks.get(name);
    if (c === undefined) this.checks.set(name, (c = { pass: 0, fail: 0 }));
    if (ok) c.pass++;
    else c.fail++;
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  generatorError(code: string): void {
    this.generatorErrors.set(code, (this.generatorErrors.get(code) ?? 0) + 1);
  }

  bytes(sent: number, received: number): void {
    this.sent += sent;
    this.received += received;
  }

  arrival(started: boolean): void {
    if (started) this.started++;
    else this.dropped++;
  }

  /** A user launched (either model): counted in `users.launched` and the users gauge. */
  userStarted(): void {
    this.launched++;
    if (++this.users > this.usersMax) this.usersMax = this.users;
  }

  userEnded(): void {
    this.users--;
  }

  /** Users still running when the grace ran out (or a hard stop came) and were cut. */
  usersCut(n: number): void {
    this.cutUsers += n;
  }

  connectionOpened(): void {
    if (++this.connections > this.connectionsMax) this.connectionsMax = this.connections;
  }

  connectionClosed(): void {
    this.connections--;
  }

  get activeUsers(): number {
    return this.users;
  }

  get openConnections(): number {
    return this.connections;
  }

  /** Ends the current interval at `now` (epoch ms) and returns its snapshot. */
  cut(health: Health, final: boolean, now = Date.now()): Snapshot {
    const histograms: Record<string, string> = {};
    for (const [name, h] of this.histograms) if (h.totalCount > 0) histograms[name] = encodeHistogram(h);
    const snapshot: Snapshot = {
      v: 1,
      worker: this.worker,
      seq: this.seq++,
      start: this.intervalStart,
      end: now,
      final,
      histograms,
      counters: Object.fromEntries(this.counters),
      errors: Object.fromEntries(this.errors),
      checks: Object.fromEntries([...this.checks].map(([k, c]) => [k, { pass: c.pass, fail: c.fail }])),
      generatorErrors: Object.fromEntries(this.generatorErrors),
      ops: this.ops,
      bytes: { sent: this.sent, received: this.received },
      arrivals: { started: this.started, dropped: this.dropped },
      users: { launched: this.launched, cut: this.cutUsers },
      gauges: { users: this.users, usersMax: this.usersMax, connections: this.connections, connectionsMax: this.connectionsMax },
      health,
    };
    this.rollups?.add(snapshot, this.histograms);
    for (const h of this.histograms.values()) h.reset();
    this.counters.clear();
    this.errors.clear();
    this.checks.clear();
    this.generatorErrors.clear();
    this.ops = this.sent = this.received = this.started = this.dropped = this.launched = this.cutUsers = 0;
    this.usersMax = this.users;
    this.connectionsMax = this.connections;
    this.intervalStart = now;
    return snapshot;
  }
}
