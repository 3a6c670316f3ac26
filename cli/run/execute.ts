import { layout } from '../../worker/store/layout';
import { putJson, type Store } from '../../worker/store/store';
import { RunReader } from '../merge/reader';
import { reportFromStore } from '../report/from-store';
import { RollingReports } from './rolling';
import { DEADLINE_SLACK_MS } from './deadline';
import { ProgressTracker, type ProgressView } from './progress';
import type { Plan, WorkerStatus } from '../../worker/plan/plan';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Fleet, FleetWorkerState } from '../fleet/fleet';
import type { WorkerStart } from '../fleet/record';
import type { Report } from '../report/types';
import { classifyError, describeError } from '../aws/error-kind';
import { RunDetachedError } from './detached';
import { Outage } from './outage';
import { RunControl } from '../search/follow';

export interface FollowOptions {
  store: Store;
  fleet: Fleet;
  plan: Plan;
  /** Called about every `pollMs` while the run goes on. */
  onProgress?: (view: ProgressView) => void;
  /** Called with each batch of snapshots as they arrive. */
  onSnapshots?: (fresh: Snapshot[]) => void;
  /** One line for the person: AWS trouble and recovery, a cancel that failed. */
  onNote?: (line: string) => void;
  /** Aborting it stops the run: a stop marker for the workers, then (after `cancelGraceMs`) a cancel through the fleet. */
  stopSignal?: AbortSignal;
  /** @default 1000 */
  pollMs?: number;
  /**
   * After the stop marker, how long workers get to end by themselves (writing their last
   * snapshot) before the fleet cancels those still running, ms.
   * @default the fleet's own (Fleet.cancelGraceMs), else 0
   */
  cancelGraceMs?: number;
  /**
   * The flags that find this run again, for the commands printed when following ends early:
   * `--env perf --region eu-west-1`, `--store s3://b`; '' for the default store.
   * @default ''
   */
  where?: string;
  /**
   * Told where every worker is in its start schedule: before the first start, after each start
   * (or group due together), every `recordEveryMs` while waiting for the next (a heartbeat:
   * `starting` true), and once this process is done with the schedule or leaves it (`starting`
   * false). A rejection is told as a note (credentials: following ends); the run goes on.
   */
  onSchedule?: (workers: readonly ScheduledWorker[], starting: boolean) => Promise<void>;
  /** @default 10000 */
  recordEveryMs?: number;
  /** Aborting it ends following at once, leaving the workers running (like a second Ctrl-C): a RunDetachedError. */
  leaveSignal?: AbortSignal;
}

/** A worker's place in the start schedule (what the fleet record keeps). */
export interface ScheduledWorker {
  readonly index: number;
  readonly start: WorkerStart;
  /** Why, with `start-failed` and `never-started`. */
  readonly detail?: string;
  /** Started by `attach`, after the CLI that started the run had gone. */
  readonly resumed?: boolean;
}

export interface ExecuteOptions extends FollowOptions {
  scenarioCode: string;
  /** The argv that starts worker `index`. */
  command: (index: number) => string[];
}

/** What `attach` knows of the start schedule of a run it follows (from the fleet record). */
export interface Resume {
  /** Each worker's place in the schedule as recorded; workers absent count as started. */
  readonly workers: readonly ScheduledWorker[];
  /** When each started worker was started, epoch ms (else the plan's due time counts). */
  readonly startedAt: ReadonlyMap<number, number>;
  /** t0 of the recorded schedule, epoch ms. */
  readonly t0: number;
  /**
   * `finish`: start the workers not started yet, keeping their spacing (the first of them
   * now, or at its due time if still ahead); `skip`: mark them `never-started`.
   */
  readonly mode: 'finish' | 'skip';
  /** The argv that starts worker `index` (needed by `finish`). */
  readonly command?: (index: number) => string[];
}

/** A started worker that neither its fleet nor the store has heard of after this is lost, ms. */
const SILENT_START_MS = 90_000;
/** How long past the deadline the store may stay unreadable before following ends without a report, ms. */
const STORE_PATIENCE_MS = 5 * 60_000;
/** Poll interval once the run is stopped: the end shows within a fraction of a second, ms. */
const STOPPING_POLL_MS = 250;
/** Attempts of the last read of the store before the report. */
const FINAL_READ_ATTEMPTS = 6;

const ENDED: ReadonlySet<FleetWorkerState['state']> = new Set(['exited', 'lost', 'never-started']);

/** What the CLI knows of a run while it follows it. */
class Session {
  /** The effective state of each worker (fleet and store together): what the report gets. */
  readonly states: Map<number, FleetWorkerState>;
  /** What the fleet said last, by worker. */
  readonly fleetStates = new Map<number, FleetWorkerState>();
  /** Workers the fleet accepted, with when (epoch ms). */
  readonly started = new Map<number, number>();
  readonly schedule = new Map<number, ScheduledWorker>();
  readonly cancelled = new Set<number>();
  readonly outage: Outage;
  stopped = false;
  stoppedAt = 0;
  markerWritten = false;
  /** Set when following must end with the workers left running. */
  detached: RunDetachedError | undefined;
  /** The person chose to leave (leaveSignal): the record can still be written. */
  left = false;
  private wakers = new Set<() => void>();
  private recording: Promise<void> = Promise.resolve();

  constructor(readonly o: FollowOptions) {
    this.states = new Map(o.plan.workers.map((w) => [w.index, { state: 'pending' } as FleetWorkerState]));
    for (const w of o.plan.workers) this.schedule.set(w.index, { index: w.index, start: 'not-started' });
    this.outage = new Outage((line) => o.onNote?.(line));
  }

  get where(): string {
    return this.o.where ? ` ${this.o.where}` : '';
  }

  /** Stops the run: the loop writes the marker at once and cancels after the grace. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stoppedAt = Date.now();
    this.wake();
  }

  /** Ends following because of `err` (credentials, denied), leaving the workers running. */
  detach(what: string, err: unknown): void {
    if (this.detached) return;
    const c = classifyError(err);
    const runId = this.o.plan.runId;
    const attach = `loadfarm attach ${runId}${this.where}`;
    const notStarted = [...this.schedule.values()].filter((w) => w.start === 'not-started').length;
    const details = notStarted > 0 ? [`${notStarted} worker(s) were not started yet: \`${attach}\` starts them (or add --skip-unstarted to leave them out)`] : [];
    const fix =
      c.kind === 'denied'
        ? `AWS denied access (${describeError(err)}) while following run ${runId} (${what}): give your role that permission`
        : `AWS credentials expired or were refused (${c.code}) while following run ${runId} (${what}): log in again (e.g. \`aws sso login\`)`;
    this.detached = new RunDetachedError(
      runId,
      `${fix}, then run \`${attach}\`. The workers keep running and writing their results to ${this.o.store.url}; nothing is lost.`,
      details,
      { cause: err },
    );
    this.wake();
  }

  /** Ends following now at the person's wish, leaving the workers running. */
  leave(): void {
    if (this.detached) return;
    const runId = this.o.plan.runId;
    const notStarted = [...this.schedule.values()].filter((w) => w.start === 'not-started').length;
    const rest = notStarted > 0 ? ` (${notStarted} worker(s) not started yet: attach starts them)` : '';
    this.left = true;
    this.detached = new RunDetachedError(
      runId,
      `left run ${runId}: its workers keep running and stop by their own deadline${rest}. Follow it again: loadfarm attach ${runId}${this.where}`,
    );
    this.wake();
  }

  /** Sleeps `ms`, or less when the run is stopped or following must end. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Records the schedule (serialized: the last call's view is the one kept). */
  record(starting: boolean): Promise<void> {
    const onSchedule = this.o.onSchedule;
    if (!onSchedule) return Promise.resolve();
    const view = [...this.schedule.values()];
    this.recording = this.recording.then(async () => {
      try {
        await onSchedule(view, starting);
      } catch (err) {
        const c = classifyError(err);
        if (c.kind === 'credentials' || c.kind === 'denied') this.detach('recording the fleet', err);
        else this.o.onNote?.(`could not record the fleet (${describeError(err)}): if this CLI stops now, \`loadfarm attach\` cannot finish the start schedule`);
      }
    });
    return this.recording;
  }

  setStart(index: number, w: Omit<ScheduledWorker, 'index'>): void {
    this.schedule.set(index, { index, ...w });
  }
}

/**
 * Runs a planned load test on a fleet: writes plan and scenario to the store, starts worker i at
 * t0 + i·stagger (workers due together in one batch when the fleet can), then follows the run
 * (see followRun).
 */
export async function executeRun(o: ExecuteOptions): Promise<Report> {
  const { store, plan } = o;
  await store.put(layout.scenario(plan.runId), o.scenarioCode);
  await putJson(store, layout.plan(plan.runId), plan);
  const session = new Session(o);
  const t0 = Date.now();
  const due = plan.workers.map((w) => ({ index: w.index, dueAt: t0 + w.startOffsetMs }));
  const starting = startOnSchedule(session, due, o.command, false);
  const lastStart = t0 + Math.max(...plan.workers.map((w) => w.startOffsetMs));
  return follow(session, t0, lastStart, starting);
}

/**
 * Follows a run that is already going (`loadfarm attach`). Without `resume`, every worker is
 * taken as started and the fleet says otherwise; with it, the recorded schedule says which
 * workers started, and those not started yet are started (`finish`) or left out (`skip`).
 * Ends like executeRun: merged report in the store.
 */
export function followRun(o: FollowOptions & { resume?: Resume }): Promise<Report> {
  const session = new Session(o);
  const plan = o.plan;
  const dueOf = (index: number) => plan.createdAt + plan.workers[index].startOffsetMs;
  const pending: { index: number; offset: number }[] = [];
  for (const w of plan.workers) {
    const rec = o.resume?.workers.find((r) => r.index === w.index);
    const start = rec?.start ?? 'started';
    if (start === 'started') {
      session.setStart(w.index, { start: 'started', resumed: rec?.resumed });
      session.started.set(w.index, o.resume?.startedAt.get(w.index) ?? dueOf(w.index));
      session.states.set(w.index, { state: 'running' });
    } else if (start === 'start-failed') {
      session.setStart(w.index, { start, detail: rec?.detail });
      session.states.set(w.index, { state: 'lost', detail: `could not be started: ${rec?.detail ?? 'unknown reason'}` });
    } else if (start === 'never-started') {
      session.setStart(w.index, { start, detail: rec?.detail });
      session.states.set(w.index, { state: 'never-started', detail: rec?.detail ?? 'not started' });
    } else if (o.resume?.mode === 'skip' || !o.resume?.command) {
      const detail = 'not started: its CLI stopped before starting it, and `loadfarm attach --skip-unstarted` left it out';
      session.setStart(w.index, { start: 'never-started', detail });
      session.states.set(w.index, { state: 'never-started', detail });
    } else {
      pending.push({ index: w.index, offset: w.startOffsetMs });
    }
  }
  let starting: Promise<void> = session.record(false);
  let lastStart = plan.createdAt + Math.max(...plan.workers.map((w) => w.startOffsetMs));
  if (pending.length > 0) {
    // Keep the spacing of the workers left: the first one now, or at its due time if still ahead.
    const first = Math.min(...pending.map((p) => p.offset));
    const t0 = Math.max(Date.now() - first, o.resume!.t0);
    const due = pending.map((p) => ({ index: p.index, dueAt: t0 + p.offset }));
    lastStart = Math.max(lastStart, ...due.map((d) => d.dueAt));
    starting = startOnSchedule(session, due, o.resume!.command!, true);
  }
  return follow(session, plan.createdAt, lastStart, starting);
}

/**
 * Starts the workers in `due` at their times, in groups due together (one batch when the fleet
 * can), recording the schedule before the first start and after each group. Stops starting
 * when the run is stopped (the rest never start) or following must end (the rest stay
 * `not-started` for `attach`). Never rejects.
 */
async function startOnSchedule(session: Session, due: { index: number; dueAt: number }[], command: (index: number) => string[], resumed: boolean): Promise<void> {
  const { fleet } = session.o;
  const groups = new Map<number, number[]>();
  for (const d of due) groups.set(d.dueAt, [...(groups.get(d.dueAt) ?? []), d.index]);
  await session.record(true);
  const everyMs = session.o.recordEveryMs ?? 10_000;
  for (const [dueAt, indexes] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    let heartbeat = Date.now() + everyMs;
    while (!session.stopped && !session.detached && Date.now() < dueAt) {
      await session.wait(Math.min(dueAt, heartbeat) - Date.now());
      if (Date.now() >= heartbeat && Date.now() < dueAt && !session.stopped && !session.detached) {
        heartbeat = Date.now() + everyMs;
        await session.record(true);
      }
    }
    if (session.detached) return;
    if (session.stopped) {
      const detail = 'not started: the run was stopped first';
      for (const [, g] of groups) {
        for (const i of g) {
          if (session.schedule.get(i)?.start !== 'not-started') continue;
          session.setStart(i, { start: 'never-started', detail });
          session.states.set(i, { state: 'never-started', detail });
        }
      }
      await session.record(false);
      return;
    }
    const failed = new Map<number, unknown>();
    if (indexes.length > 1 && fleet.startBatch) {
      const result = await fleet.startBatch(indexes, command).catch((err: unknown) => new Map(indexes.map((i) => [i, err])));
      for (const [i, why] of result) failed.set(i, why);
    } else {
      await Promise.all(
        indexes.map((i) =>
          fleet.start(i, command(i)).catch((err: unknown) => {
            failed.set(i, err);
          }),
        ),
      );
    }
    for (const i of indexes) {
      const why = failed.get(i);
      if (why === undefined) {
        session.started.set(i, Date.now());
        session.setStart(i, { start: 'started', resumed: resumed || undefined });
        session.states.set(i, { state: 'running' });
        continue;
      }
      const kind = classifyError(why).kind;
      if (kind === 'credentials' || kind === 'denied') {
        // Not started, and nothing was sent: `attach` starts it once the person has logged in again.
        session.detach(`starting worker ${i}`, why);
        continue;
      }
      const detail = why instanceof Error ? why.message : String(why);
      session.setStart(i, { start: 'start-failed', detail });
      session.states.set(i, { state: 'lost', detail: `could not be started: ${detail}` });
    }
    if (session.detached) return;
    await session.record(groupsLeft(groups, dueAt));
  }
}

/** True while groups due after `dueAt` remain. */
function groupsLeft(groups: Map<number, number[]>, dueAt: number): boolean {
  return [...groups.keys()].some((d) => d > dueAt);
}

/**
 * The state of a worker from what its fleet says and what it wrote to the store: a final
 * status in the store ends it whatever the fleet still shows (SSM lags); a worker the fleet
 * cannot see any more (`unknown`) is followed by the store; one that exited 1 before writing
 * anything could not even load (the worker's own exit 1 comes with a status).
 */
function effectiveState(fs: FleetWorkerState, st: WorkerStatus | undefined, sinceStartMs: number): FleetWorkerState {
  if (st?.state === 'done') return { state: 'exited', exitCode: st.exitCode ?? 0 };
  if (st?.state === 'failed') return { state: 'exited', exitCode: st.exitCode ?? 1, detail: st.message };
  switch (fs.state) {
    case 'exited':
      if (fs.exitCode === 1 && !st) {
        return {
          state: 'lost',
          detail: `exited with code 1 before writing anything to the store: node could not load the worker (a missing or broken worker bundle, or bad arguments)${fs.detail ? `: ${fs.detail}` : ''}; reinstall it (on AWS: deploy the environment again)`,
        };
      }
      return fs;
    case 'lost':
    case 'never-started':
    case 'running':
      return fs;
    case 'pending':
      return st ? { state: 'running' } : fs;
    case 'unknown':
      if (st) return { state: 'running' };
      if (sinceStartMs < SILENT_START_MS) return { state: 'pending' };
      return { state: 'lost', detail: `${fs.detail}, and the worker wrote nothing to the store` };
  }
}

/**
 * Polls fleet states and new snapshots until every worker has ended (or is given up as lost
 * past its deadline), then merges everything into the report and writes it to the store.
 * Transient AWS errors are waited out (told as notes); expired or refused credentials end
 * following with a RunDetachedError, leaving the workers running.
 */
async function follow(session: Session, t0: number, lastStart: number, starting: Promise<void>): Promise<Report> {
  const { store, fleet, plan } = session.o;
  const o = session.o;
  const pollMs = o.pollMs ?? 1000;
  const onStop = () => session.stop();
  o.stopSignal?.addEventListener('abort', onStop, { once: true });
  if (o.stopSignal?.aborted) onStop();
  const onLeave = () => session.leave();
  o.leaveSignal?.addEventListener('abort', onLeave, { once: true });
  if (o.leaveSignal?.aborted) onLeave();

  const reader = new RunReader(store, plan.runId);
  const rolling = plan.reportEveryMs ? new RollingReports(store, plan, t0) : undefined;
  // A search's steps and abortOnFail thresholds: decided here, farm-wide (cli/search/follow.ts).
  const control = RunControl.for(store, plan, (line) => o.onNote?.(line));
  const tracker = new ProgressTracker();
  const giveUpAt = lastStart + plan.hardStopMs + DEADLINE_SLACK_MS;
  const states = session.states;
  const outage = session.outage;
  // Only a failing store slows the loop: the fleet backs off per command by itself.
  let storeFailing = false;
  try {
    for (;;) {
      const base = session.stopped ? STOPPING_POLL_MS : pollMs;
      await session.wait(storeFailing ? outage.delayMs(base) : base);
      if (session.detached) {
        // Leaving by choice: say in the record that no process is starting workers any more.
        if (session.left) await session.record(false);
        throw session.detached;
      }
      let failed = false;
      storeFailing = false;
      if (session.stopped && !session.markerWritten) {
        try {
          await store.put(layout.stop(plan.runId), String(Date.now()));
          session.markerWritten = true;
        } catch (err) {
          failed = true;
          storeFailing = true;
          if (isFatal(outage.failed('writing the stop marker', err))) session.detach('writing the stop marker', err);
        }
      }
      await Promise.all(
        plan.workers.map(async (w) => {
          const s = states.get(w.index)!;
          if (!session.started.has(w.index) || ENDED.has(s.state)) return;
          try {
            session.fleetStates.set(w.index, await fleet.status(w.index));
          } catch (err) {
            failed = true;
            if (isFatal(outage.failed(`${fleet.name} status of worker ${w.index}`, err))) session.detach(`asking ${fleet.name} about worker ${w.index}`, err);
          }
        }),
      );
      let fresh: Snapshot[] = [];
      try {
        fresh = await reader.refresh();
      } catch (err) {
        failed = true;
        storeFailing = true;
        if (isFatal(outage.failed(`reading ${store.url}`, err))) session.detach(`reading ${store.url}`, err);
      }
      if (session.detached) throw session.detached;
      if (!failed) outage.ok();
      if (rolling && !failed) {
        const wrote = await rolling.write(reader, Date.now()).catch((err: unknown) => {
          o.onNote?.(`rolling report not written yet (${(err as Error).message}); tried again at the next poll`);
          return [] as string[];
        });
        for (const key of wrote) o.onNote?.(`rolling report: ${store.url}/${key}`);
      }
      const now = Date.now();
      for (const w of plan.workers) {
        const since = session.started.get(w.index);
        if (since === undefined) continue;
        const fs = session.fleetStates.get(w.index) ?? states.get(w.index)!;
        states.set(w.index, effectiveState(fs, reader.statuses.get(w.index), now - since));
      }
      if (session.stopped && now >= session.stoppedAt + (o.cancelGraceMs ?? fleet.cancelGraceMs ?? 0)) cancelStragglers(session);
      tracker.add(fresh);
      if (control && (await control.tick(fresh, reader, (i) => ENDED.has(states.get(i)!.state), session.stopped))) session.stop();
      if (fresh.length > 0) o.onSnapshots?.(fresh);
      o.onProgress?.(tracker.view(now - t0, [...states.values()]));
      const allEnded = [...states.values()].every((s) => ENDED.has(s.state));
      if (allEnded && (!session.stopped || session.markerWritten)) break;
      if (now > giveUpAt && !outage.active) {
        for (const [i, s] of states) if (!ENDED.has(s.state)) states.set(i, { state: 'lost', detail: 'no end reported by its deadline' });
        break;
      }
      if (now > giveUpAt + STORE_PATIENCE_MS) {
        throw new RunDetachedError(
          plan.runId,
          `cannot follow run ${plan.runId} for ${Math.round(outage.lastedMs / 1000)} s (${outage.lastFailure}) and its workers are past their deadline: ` +
            `once AWS answers again, \`loadfarm report ${plan.runId}${session.where}\` makes the report from what the workers wrote`,
        );
      }
    }
    await starting;
  } finally {
    o.stopSignal?.removeEventListener('abort', onStop);
    o.leaveSignal?.removeEventListener('abort', onLeave);
  }
  const last = await finalRead(session, reader);
  if (last.length > 0) o.onSnapshots?.(last);
  const report = await untilStored(session, () => reportFromStore(reader, plan, { fleet: states, stopped: session.stopped }).then((r) => control?.finish(r) ?? r));
  await untilStored(session, () => putJson(store, layout.report(plan.runId), report));
  return report;
}

/**
 * Runs a store step at the end of a run until it succeeds, through transient trouble (told as
 * an outage); credentials or permissions detach as while following.
 */
async function untilStored<T>(session: Session, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const c = session.outage.failed(`writing the report to ${session.o.store.url}`, err);
      if (isFatal(c)) session.detach(`writing the report to ${session.o.store.url}`, err);
      if (session.detached) throw session.detached;
      if (c.kind !== 'transient' || attempt >= FINAL_READ_ATTEMPTS) throw err;
    }
    await session.wait(session.outage.delayMs(500));
  }
}

/** Credentials or permissions: waiting will not help. */
function isFatal(c: { kind: string }): boolean {
  return c.kind === 'credentials' || c.kind === 'denied';
}

/**
 * Cancels, through the fleet, every started worker still going after the stop's grace: once
 * each, in the background; a failure is told and the worker stops by its own deadline.
 */
function cancelStragglers(session: Session): void {
  for (const [i, s] of session.states) {
    if (!session.started.has(i) || ENDED.has(s.state) || session.cancelled.has(i)) continue;
    session.cancelled.add(i);
    session.o.fleet.cancel(i).catch((err: unknown) => {
      session.o.onNote?.(`could not cancel worker ${i} (${describeError(err)}): it stops by itself at its deadline`);
    });
  }
}

/**
 * The last read of the store before the report, retried while it fails or leaves objects
 * unread (a read cut mid-body), so one transient error never makes the report incomplete.
 */
async function finalRead(session: Session, reader: RunReader): Promise<Snapshot[]> {
  const got: Snapshot[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      got.push(...(await reader.complete()));
      if (reader.unreadable.size === 0 || attempt >= FINAL_READ_ATTEMPTS) return got;
      session.outage.failed(`reading ${reader.store.url}`, new Error(`${reader.unreadable.size} object(s) could not be read whole`));
    } catch (err) {
      const c = session.outage.failed(`reading ${reader.store.url}`, err);
      if (isFatal(c)) session.detach(`reading ${reader.store.url}`, err);
      if (session.detached) throw session.detached;
      if (attempt >= FINAL_READ_ATTEMPTS) {
        throw new RunDetachedError(
          session.o.plan.runId,
          `cannot read the results of run ${session.o.plan.runId} (${describeError(err)}): once the store answers again, \`loadfarm report ${session.o.plan.runId}${session.where}\` makes the report`,
          [],
          { cause: err },
        );
      }
    }
    await session.wait(session.outage.delayMs(500));
  }
}
