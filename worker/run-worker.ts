import { setMaxListeners } from 'node:events';
import * as os from 'node:os';
import { Engine } from './engine/engine';
import type { Runtime } from './engine/scope';
import { HealthMonitor } from './metrics/health';
import { createHttpDispatcher } from './protocols/http-dispatcher';
import { Recorder } from './metrics/recorder';
import { RawEventWriter } from './metrics/raw-events';
import { WORKER_EXIT, type Plan, type WorkerStatus } from './plan/plan';
import { evaluateScenario, scenarioFrom } from './scenario/load';
import { layout } from './store/layout';
import { getJson, putJson, putNewJson, type Store } from './store/store';
import { RollupBuilder } from './metrics/rollup';
import type { Snapshot } from './metrics/snapshot';
import { say } from './stdio';
import { openWorkerData } from './data/open';
import { attachData } from './data/set';
import { StepReader } from './control/steps';

/** At the hard deadline, how long the worker may spend writing its failed status before it exits, ms. */
const DEADLINE_STATUS_MS = 2000;

export interface WorkerOptions {
  store: Store;
  runId: string;
  index: number;
  /** The module `require('loadfarm')` resolves to inside the scenario. */
  api: unknown;
  /** How often to look for the run's stop marker, ms. @default 1000 */
  stopPollMs?: number;
  /** Where problems are told (one line each). @default stderr */
  log?: (line: string) => void;
  /**
   * Called once the plan is read with how long from now, ms, the process must be gone whatever
   * happens (the hard stop plus the time it gets to exit): the worker process arms a backstop
   * that does not depend on its event loop. @default none
   */
  backstop?: (ms: number) => void;
}

/** Beyond the deadline's own exit (DEADLINE_STATUS_MS), what the backstop allows, ms. */
const BACKSTOP_SLACK_MS = 1000;

/**
 * One worker's whole life: read plan and scenario, run the share of the load, write a snapshot
 * every interval and a last one at the end, keep status.json current. Resolves with the exit
 * code (WORKER_EXIT). Stops early when the run's stop marker appears or `signal` fires; ends
 * hard at the plan's deadline whatever users are doing.
 */
export async function runWorker(o: WorkerOptions, signal?: AbortSignal): Promise<number> {
  const log = o.log ?? ((line: string) => say(`worker ${o.index}: ${line}`));
  const { store, runId, index } = o;
  const status: WorkerStatus = { index, state: 'starting', host: os.hostname(), pid: process.pid, startedAt: Date.now() };
  const writeStatus = (patch: Partial<WorkerStatus>) => {
    Object.assign(status, patch);
    return putJson(store, layout.status(runId, index), status);
  };

  const fail = async (code: number, message: string) => {
    log(message);
    await writeStatus({ state: 'failed', endedAt: Date.now(), exitCode: code, message }).catch(() => undefined);
    return code;
  };

  try {
    await writeStatus({});
  } catch (err) {
    log(`cannot write to ${store.url}: ${(err as Error).message}`);
    return WORKER_EXIT.store;
  }

  let plan: Plan | undefined;
  let code: Buffer | undefined;
  try {
    [plan, code] = await Promise.all([getJson<Plan>(store, layout.plan(runId)), store.get(layout.scenario(runId))]);
  } catch (err) {
    return fail(WORKER_EXIT.store, `cannot read the run from ${store.url}: ${(err as Error).message}`);
  }
  if (!plan) return fail(WORKER_EXIT.badInput, `no plan at ${store.url}/${layout.plan(runId)}`);
  if (!code) return fail(WORKER_EXIT.badInput, `no scenario at ${store.url}/${layout.scenario(runId)}`);
  const me = plan.workers[index];
  if (!me) return fail(WORKER_EXIT.badInput, `the plan has ${plan.workers.length} workers, not one with index ${index}`);

  let loaded: ReturnType<typeof scenarioFrom>;
  try {
    loaded = scenarioFrom(evaluateScenario(code.toString('utf8'), plan.scenario.file, o.api));
  } catch (err) {
    return fail(WORKER_EXIT.badInput, `the scenario threw while loading: ${(err as Error).stack ?? err}`);
  }
  if ('problems' in loaded) return fail(WORKER_EXIT.badInput, `the scenario is not valid: ${loaded.problems.join('; ')}`);

  const rollups = new RollupBuilder(plan.intervalMs);
  const recorder = new Recorder(index, Date.now(), rollups);
  const events = plan.rawEvents ? new RawEventWriter(store, runId, index) : undefined;
  const health = new HealthMonitor();
  const cutController = new AbortController();
  // Every waiting user listens on this one signal.
  setMaxListeners(0, cutController.signal);
  let nextSource = 0;
  const sourceAddress = plan.sourceIps.length === 0 ? () => undefined : () => plan!.sourceIps[nextSource++ % plan!.sourceIps.length];
  const dispatcher = createHttpDispatcher({ connections: plan.httpConnections, sourceAddress, recorder });
  const runtime: Runtime = {
    worker: index,
    target: plan.target,
    recorder,
    signal: cutController.signal,
    dispatcher,
    params: plan.params ?? {},
    events,
    timeoutMs: plan.timeoutMs,
    sourceAddress,
  };
  const cut = () => {
    cutController.abort();
    dispatcher.destroy().catch(() => undefined);
  };
  const engine = new Engine({
    scenario: loaded.scenario,
    share: me.load,
    identity: me.identity,
    seed: me.seed,
    runtime,
    graceMs: plan.graceMs,
    cut,
    // A search cuts a snapshot at each step's start and end: no snapshot spans two steps.
    ...(plan.search ? { search: { search: plan.search, index, of: plan.workers.length, steps: new StepReader(store, runId, log), onBoundary: () => void flush(false) } } : {}),
  });
  // This worker's share of each data set, fetched part by part before any user starts.
  const opened = plan.data ? await openWorkerData({ store, runId, index, data: plan.data, stop: () => engine.stop() }) : undefined;
  if (opened && 'exit' in opened) return fail(opened.exit, opened.message);
  if (opened) attachData(runtime, opened.data.sets);

  // Snapshots, then the roll-ups they completed, are written in order, one at a time,
  // write-once (putNew: a retry of a write that landed resolves); a failed write is retried with
  // the next one. A conflict (STORE_EXISTS: another process wrote this worker's snapshot) never
  // clears and ends the worker with exit 2.
  const unsent: { key: string; value: Snapshot }[] = [];
  let writing: Promise<void> = Promise.resolve();
  let storeFailure: Error | undefined;
  const flush = (final: boolean) => {
    events?.flush();
    if (final && events && events.dropped > 0) recorder.count('loadfarm.raw_events_dropped', events.dropped);
    const snapshot = { ...recorder.cut(health.take(), final), run: runId };
    unsent.push({ key: layout.snapshot(runId, index, snapshot.seq), value: snapshot });
    for (const r of rollups.take()) unsent.push({ key: layout.rollup(runId, index, r.rollup.level, r.rollup.seqFrom, r.rollup.seqTo), value: { ...r, run: runId } });
    writing = writing.then(async () => {
      while (unsent.length > 0) {
        const { key, value } = unsent[0];
        try {
          await putNewJson(store, key, value);
          unsent.shift();
          storeFailure = undefined;
        } catch (err) {
          storeFailure = err as Error;
          return;
        }
      }
    });
    return writing;
  };
  const snapshotTimer = setInterval(() => void flush(false), plan.intervalMs);

  // The watchdog: whatever users or the store do, this process exits at its deadline (exit 3),
  // after at most DEADLINE_STATUS_MS spent on telling the store why.
  const hardStop = setTimeout(() => {
    cut();
    const exit = () => process.exit(WORKER_EXIT.deadline);
    setTimeout(exit, DEADLINE_STATUS_MS).unref();
    void fail(WORKER_EXIT.deadline, `hard stop: still running ${plan!.hardStopMs} ms after start`).finally(exit);
  }, plan.hardStopMs);
  hardStop.unref();
  o.backstop?.(plan.hardStopMs + DEADLINE_STATUS_MS + BACKSTOP_SLACK_MS);

  let stopPoll: NodeJS.Timeout | undefined;
  const watchStop = () => {
    stopPoll = setTimeout(async () => {
      try {
        if (await store.get(layout.stop(runId))) {
          engine.stop();
          return;
        }
      } catch {
        // The marker is looked for again next time; the deadline bounds the run regardless.
      }
      if (!engine.stopping) watchStop();
    }, o.stopPollMs ?? 1000);
  };
  watchStop();
  const onAbort = () => engine.stop();
  signal?.addEventListener('abort', onAbort, { once: true });

  await writeStatus({ state: 'running', loadEndsAt: Date.now() + plan.loadMs }).catch(() => undefined);
  let result;
  try {
    result = await engine.run();
    if (result.searchEnd === 'no-first-step') log(`no search step came within ${plan.search!.startTimeoutMs} ms of the start: ended the load (is the CLI that decides steps gone?)`);
    if (result.searchEnd === 'no-decision') log(`no next search step came within ${plan.search!.decisionTimeoutMs} ms of the last one's end: ended the load (is the CLI that decides steps gone?)`);
  } finally {
    clearInterval(snapshotTimer);
    clearTimeout(stopPoll);
    signal?.removeEventListener('abort', onAbort);
    if (opened) opened.data.close();
  }
  if (events) {
    events.flush();
    await events.close().catch((err: Error) => log(`raw events: ${err.message}`));
  }
  await flush(true);
  health.stop();
  if (!cutController.signal.aborted) await dispatcher.close().catch(() => undefined);
  // The deadline still holds while the last writes go to the store.
  try {
    if (storeFailure) return await fail(WORKER_EXIT.store, `could not write snapshots to ${store.url}: ${storeFailure.message}`);
    await writeStatus({
      state: 'done',
      endedAt: Date.now(),
      exitCode: WORKER_EXIT.done,
      cutUsers: result.cutUsers,
      completed: result.completed,
    }).catch(() => undefined);
    return WORKER_EXIT.done;
  } finally {
    clearTimeout(hardStop);
  }
}
