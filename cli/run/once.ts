import { setMaxListeners } from 'node:events';
import { Agent } from 'undici';
import { VirtualUser, recordJourneyFailure } from '../../worker/engine/user';
import { HealthMonitor } from '../../worker/metrics/health';
import { Recorder } from '../../worker/metrics/recorder';
import type { Snapshot } from '../../worker/metrics/snapshot';
import type { Runtime } from '../../worker/engine/scope';
import type { Scenario, UserFn } from '../../worker/scenario/types';
import { parseDuration } from '../../worker/scenario/duration';

export interface OnceResult {
  /** Each journey run: the flow's name (or 'user') and the failure, if it threw. */
  journeys: { name: string; error?: string }[];
  snapshot: Snapshot;
}

/**
 * Runs one user through the scenario once, in this process (each flow once when there are
 * flows): the dry run behind `loadfarm validate`. Bounded by `timeoutMs` per journey.
 */
export async function runOnce(scenario: Scenario, target: string, params: Record<string, string>, timeoutMs = 60_000): Promise<OnceResult> {
  const recorder = new Recorder(0);
  const health = new HealthMonitor();
  const cut = new AbortController();
  setMaxListeners(0, cut.signal);
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
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
  const journeys: [string, UserFn][] = scenario.user ? [['user', scenario.user]] : (scenario.flows ?? []).map((f) => [f.name, f.user]);
  const results: OnceResult['journeys'] = [];
  for (const [name, fn] of journeys) {
    const user = new VirtualUser(0, runtime, 1, 0);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => fn(user)),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      results.push({ name });
    } catch (err) {
      recordJourneyFailure(runtime, err, 0);
      results.push({ name, error: (err as Error).message ?? String(err) });
    } finally {
      clearTimeout(timer);
      user.scope.closeAll();
    }
  }
  cut.abort();
  await dispatcher.destroy();
  const snapshot = recorder.cut(health.take(), true);
  health.stop();
  return { journeys: results, snapshot };
}
