import { ArrivalSchedule } from './schedule';
import { VirtualUser, recordJourneyFailure } from './user';
import type { Runtime } from './scope';
import type { LoadShare } from '../plan/split';
import type { Scenario, UserFn } from '../scenario/types';
import { parseDuration } from '../scenario/duration';
import { StopError } from '../protocols/errors';
import { onAbort } from './abort';
import { nextTurn, turnNow } from './turns';
import { runSearch, type SearchEnd, type SearchPort, type SearchRunProps } from './search';

/** Longest stretch of user starts without a yield to the event loop, ms. */
const LAUNCH_SLICE_MS = 10;

/** How long cut users get to unwind before the engine reports the end anyway, ms. */
const CUT_WAIT_MS = 2000;

export interface EngineOptions {
  scenario: Scenario;
  share: LoadShare;
  /** This worker's user numbers: [first, first + count). */
  identity: { first: number; count: number };
  seed: number;
  runtime: Runtime;
  /** Time users in flight get after the load ends before they are cut, ms. */
  graceMs: number;
  /** Cuts all users: called when the grace runs out (or at once by a hard stop). */
  cut: () => void;
  /** A breaking-point search (plan.search): steps replace `share`'s schedule (worker/engine/search.ts). */
  search?: SearchRunProps;
}

export interface EngineResult {
  /** Users that were still running when the grace ran out and were cut. */
  cutUsers: number;
  /** True when the load ran to its planned end (false when stopped early). */
  completed: boolean;
  /** With a search: why its load ended. */
  searchEnd?: SearchEnd;
}

/**
 * Runs one worker's share of the load: arrivals on schedule (open model) or users in a loop
 * (closed model). `run()` resolves after the load ended and users finished or were cut;
 * `stop()` ends the load early, with the same grace.
 */
export class Engine {
  private readonly active = new Map<VirtualUser, Promise<void>>();
  private stopped = false;
  private wake: (() => void) | undefined;
  private nextId = 0;
  private readonly pick: (u: VirtualUser) => UserFn;

  constructor(private readonly o: EngineOptions) {
    const s = o.scenario;
    this.backoff = closedBackoff(s);
    if (s.user) {
      const fn = s.user;
      this.pick = () => fn;
    } else {
      const flows = s.flows ?? [];
      const fns = flows.map((f) => f.user);
      const weights = flows.map((f) => f.weight ?? 1);
      this.pick = (u) => u.rng.weighted(fns, weights);
    }
  }

  /** Ends the load early; users in flight get the grace. Safe to call more than once. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
    for (const done of [...this.pausing]) done();
  }

  get stopping(): boolean {
    return this.stopped;
  }

  async run(): Promise<EngineResult> {
    const { share } = this.o;
    let searchEnd: SearchEnd | undefined;
    if (this.o.search) {
      this.loadEndsAt = performance.now() + (share.model === 'closed' ? share.durationMs : 0);
      searchEnd = await runSearch(this.o.search, this.searchPort());
    } else if (share.model === 'open') await this.runOpen(share);
    else await this.runClosed(share);
    const completed = !this.stopped;
    this.stopped = true;
    const cutUsers = await this.drain();
    return { cutUsers, completed, ...(searchEnd ? { searchEnd } : {}) };
  }

  /** The engine as a search drives it: arrivals as runOpen admits them, closed users with their own end. */
  private searchPort(): SearchPort {
    const engine = this;
    const { identity } = this.o;
    const rec = this.o.runtime.recorder;
    const maxUsers = this.o.share.model === 'open' ? this.o.share.maxUsers : null;
    return {
      get stopped() {
        return engine.stopped;
      },
      sleep: (ms) => this.sleep(ms),
      arrive: (lagMs) => {
        if (maxUsers !== null && rec.activeUsers >= maxUsers) return rec.arrival(false);
        if (this.nextId >= identity.count) return rec.count('loadfarm.identities_exhausted');
        rec.latency('loadfarm.schedule_lag', lagMs);
        rec.arrival(true);
        this.launch(identity.first + this.nextId++, lagMs, false);
      },
      missed: (n) => rec.count('loadfarm.search_missed_arrivals', n),
      startUser: (slot, keepGoing) => this.launch(identity.first + slot, 0, true, Infinity, keepGoing),
    };
  }

  /** Pause settings of closed-model users after failed iterations (ClosedLoad.backoff). */
  private readonly backoff: { minMs: number; maxMs: number } | null;

  private readonly pausing = new Set<() => void>();

  /** A user's pause: ends after `ms`, at stop() or when users are cut. */
  private pauseUntil(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped || this.o.runtime.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const pausing = this.pausing;
      const timer = setTimeout(done, ms);
      const forget = onAbort(this.o.runtime.signal, done);
      pausing.add(done);
      function done() {
        clearTimeout(timer);
        forget();
        pausing.delete(done);
        resolve();
      }
    });
  }

  /** Sleeps until `ms` from now or until stop(). */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private loadEndsAt = Infinity;

  private async runOpen(share: Extract<LoadShare, { model: 'open' }>) {
    const schedule = new ArrivalSchedule(share.phases);
    const rec = this.o.runtime.recorder;
    const t0 = performance.now();
    this.loadEndsAt = t0 + share.phases.reduce((sum, p) => sum + p.durationMs, 0);
    for (let k = share.index; !this.stopped; k += share.of) {
      const due = schedule.timeOf(k);
      if (due === undefined) {
        // Hold until the planned end, so that every worker's load lasts as long as the schedule.
        const left = this.loadEndsAt - performance.now();
        if (left > 0) await this.sleep(left);
        return;
      }
      let now = performance.now() - t0;
      if (due > now) {
        await this.sleep(due - now);
        if (this.stopped) return;
        now = performance.now() - t0;
      }
      if (share.maxUsers !== null && rec.activeUsers >= share.maxUsers) {
        rec.arrival(false);
        continue;
      }
      if (this.nextId >= this.o.identity.count) {
        rec.count('loadfarm.identities_exhausted');
        continue;
      }
      // Timers may fire a little early: an arrival is never early, only on time or late.
      const lag = Math.max(0, now - due);
      rec.latency('loadfarm.schedule_lag', lag);
      rec.arrival(true);
      this.launch(this.o.identity.first + this.nextId++, lag, false);
    }
  }

  private async runClosed(share: Extract<LoadShare, { model: 'closed' }>) {
    const t0 = performance.now();
    const endAt = t0 + share.durationMs;
    this.loadEndsAt = endAt;
    let sliceFrom = t0;
    for (let j = 0; j < share.users && !this.stopped; j++) {
      const startAt = t0 + (share.users > 1 ? (share.rampUpMs * j) / share.users : 0);
      const now = performance.now();
      const wait = startAt - now;
      if (wait > 0) {
        await this.sleep(wait);
        sliceFrom = performance.now();
      } else if (now - sliceFrom >= LAUNCH_SLICE_MS) {
        // Users due at once (no ramp-up, or a generator behind its ramp) are started in slices, so
        // that connections already dialed complete and timers run while the rest start.
        await nextTurn();
        sliceFrom = performance.now();
      }
      if (this.stopped) break;
      this.launch(this.o.identity.first + j, 0, true, endAt);
    }
    const left = endAt - performance.now();
    if (left > 0) await this.sleep(left);
  }

  /** Starts one user; closed-model users loop until `endAt` (performance.now() ms). */
  private launch(id: number, lagMs: number, loop: boolean, endAt = 0, keepGoing: () => boolean = always) {
    const { runtime, seed } = this.o;
    const user = new VirtualUser(id, runtime, seed, lagMs, this.loadEndsAt);
    runtime.recorder.userStarted();
    this.active.set(user, this.live(user, this.pick(user), loop, endAt, keepGoing));
  }

  /** A user's life: its journey once, or in a loop (closed model) until `endAt`, stop, cut or `keepGoing()` says no. */
  private async live(user: VirtualUser, journey: UserFn, loop: boolean, endAt: number, keepGoing: () => boolean): Promise<void> {
    const runtime = this.o.runtime;
    let failedInARow = 0;
    try {
      do {
        const startedIn = turnNow();
        let threw = false;
        try {
          await journey(user);
        } catch (err) {
          threw = !(err instanceof StopError);
          recordJourneyFailure(runtime, err, user.id);
        } finally {
          // Connections a journey opened end with it.
          user.scope.closeAll();
        }
        user.iteration++;
        if (!loop) break;
        failedInARow = threw ? failedInARow + 1 : 0;
        const pause = backoffMs(this.backoff, failedInARow);
        // A pause after a failed iteration; otherwise, for an iteration that never left its
        // event-loop turn, a yield, so that a journey that ends at once cannot starve timers.
        if (pause > 0) await this.pauseUntil(Math.min(pause, endAt - performance.now()));
        else if (turnNow() === startedIn) await nextTurn();
      } while (loop && !this.stopped && performance.now() < endAt && !runtime.signal.aborted && keepGoing());
    } finally {
      runtime.recorder.userEnded();
      this.active.delete(user);
    }
  }

  /** Waits for users in flight up to the grace, then cuts the rest. Returns how many were cut. */
  private async drain(): Promise<number> {
    if (this.active.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((r) => (timer = setTimeout(() => r('grace'), this.o.graceMs)));
    const allDone = Promise.all(this.active.values()).then(() => 'done' as const);
    const outcome = await Promise.race([allDone, graceOver]);
    clearTimeout(timer);
    if (outcome === 'done') return 0;
    const cut = this.active.size;
    this.o.runtime.recorder.usersCut(cut);
    this.o.cut();
    for (const user of this.active.keys()) user.scope.closeAll();
    // Operations not yet holding a connection (a dial in progress) end by their own timeouts;
    // the engine does not wait for them past this bound.
    await Promise.race([Promise.all(this.active.values()), new Promise((r) => setTimeout(r, CUT_WAIT_MS).unref())]);
    return cut;
  }
}

function always(): boolean {
  return true;
}

/** Closed-model backoff after failed iterations, ms; null when turned off (`backoff: false`). */
export function closedBackoff(scenario: Scenario): { minMs: number; maxMs: number } | null {
  const load = scenario.load;
  if (!('users' in load)) return null;
  if (load.backoff === false) return null;
  const minMs = parseDuration(load.backoff?.min) ?? 1000;
  const maxMs = Math.max(minMs, parseDuration(load.backoff?.max) ?? 30_000);
  return { minMs, maxMs };
}

/** The pause after `failedInARow` failed iterations: min, doubling, capped at max; 0 after a success. */
export function backoffMs(b: { minMs: number; maxMs: number } | null, failedInARow: number): number {
  if (b === null || failedInARow === 0) return 0;
  return Math.min(b.maxMs, b.minMs * 2 ** Math.min(30, failedInARow - 1));
}
