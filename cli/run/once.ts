import { attachData, type DataSet } from '../../worker/data/set';
import { setMaxListeners } from 'node:events';
import { createHttpDispatcher } from '../../worker/protocols/http-dispatcher';
import { VirtualUser, recordJourneyFailure } from '../../worker/engine/user';
import { HealthMonitor } from '../../worker/metrics/health';
import { Recorder } from '../../worker/metrics/recorder';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Runtime } from '../../worker/engine/scope';
import type { Scenario, UserFn } from '../../worker/scenario/types';
import { formatDuration, parseDuration } from '../../worker/scenario/duration';
import { DEFAULT_TIMEOUT_MS, DEFAULT_WINDOW_MS } from './once-defaults';

export interface OnceResult {
  /** Each journey run: the flow's name (or 'user') and the failure, if it threw or was cut. */
  journeys: { name: string; error?: string }[];
  snapshot: Snapshot;
}

export interface OnceOptions {
  /** The scenario's data sets, opened as one worker's (cli/data/local.ts): what `u.data` draws from. */
  data?: ReadonlyMap<string, DataSet>;
  /** What `u.endsIn()` counts down from each journey's start, ms. @default DEFAULT_WINDOW_MS */
  windowMs?: number;
  /**
   * A journey still running this long after its start is cut, ms; never sooner than the window
   * plus the scenario's grace (10 s by default), so that a user holding until `u.endsIn()` has
   * the grace to finish, as in a run. @default DEFAULT_TIMEOUT_MS
   */
  timeoutMs?: number;
}

export { DEFAULT_TIMEOUT_MS, DEFAULT_WINDOW_MS };
/** How long a cut journey gets to unwind before the next one starts regardless, ms. */
const UNWIND_MS = 2000;

/** The window and the cut a dry run of `scenario` uses, ms from each journey's start. */
export function onceBounds(scenario: Scenario, o: OnceOptions = {}): { windowMs: number; cutMs: number } {
  const windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
  const graceMs = parseDuration(scenario.grace) ?? 10_000;
  return { windowMs, cutMs: Math.max(o.timeoutMs ?? DEFAULT_TIMEOUT_MS, windowMs + graceMs) };
}

/**
 * Runs one user through the scenario once, in this process (each flow once when there are
 * flows): the dry run behind `loadfarm validate`. Each journey sees a load that ends
 * `windowMs` after it starts (`u.endsIn()` counts it down, as in a run); a journey still
 * running `cutMs` after its start is cut like a run cuts it (waits reject, connections close)
 * and reported as failed. So a dry run lasts at most cutMs (+ 2 s to unwind) per journey.
 */
export async function runOnce(scenario: Scenario, target: string, params: Record<string, string>, o: OnceOptions = {}): Promise<OnceResult> {
  const { windowMs, cutMs } = onceBounds(scenario, o);
  const recorder = new Recorder(0);
  const health = new HealthMonitor();
  const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder, keepAliveTimeoutMs: 1000 });
  const journeys: [string, UserFn][] = scenario.user ? [['user', scenario.user]] : (scenario.flows ?? []).map((f) => [f.name, f.user]);
  const results: OnceResult['journeys'] = [];
  for (const [name, fn] of journeys) {
    // Each journey has its own cut, so that one cut cannot reach into the next.
    const cut = new AbortController();
    setMaxListeners(0, cut.signal);
    const runtime: Runtime = {
      worker: 0,
      target,
      recorder,
      signal: cut.signal,
      dispatcher,
      params,
      timeoutMs: parseDuration(scenario.http?.timeout) ?? 30_000,
      sourceAddress: () => undefined,
    };
    if (o.data) attachData(runtime, o.data);
    const user = new VirtualUser(0, runtime, 1, 0, performance.now() + windowMs);
    const journey = Promise.resolve().then(() => fn(user));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), cutMs)));
    try {
      const outcome = await Promise.race([journey.then(() => 'done' as const), deadline]);
      if (outcome === 'done') results.push({ name });
      else {
        results.push({ name, error: `still running ${formatDuration(cutMs)} after it started: cut` });
        cut.abort();
        user.scope.closeAll();
        const unwound = journey.then(
          () => undefined,
          () => undefined,
        );
        // Not unref'd: a journey that never settles must not let the process end mid-report.
        let unwind: NodeJS.Timeout | undefined;
        await Promise.race([unwound, new Promise((r) => (unwind = setTimeout(r, UNWIND_MS)))]);
        clearTimeout(unwind);
      }
    } catch (err) {
      recordJourneyFailure(runtime, err, 0);
      results.push({ name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
      cut.abort();
      user.scope.closeAll();
    }
  }
  await dispatcher.destroy();
  const snapshot = recorder.cut(health.take(), true);
  health.stop();
  return { journeys: results, snapshot };
}
