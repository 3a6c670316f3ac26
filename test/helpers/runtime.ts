import { createHttpDispatcher } from '../../worker/protocols/http-dispatcher';
import type { Runtime } from '../../worker/engine/scope';
import { VirtualUser } from '../../worker/engine/user';
import { decodeHistogram } from '../../worker/metrics/histogram';
import { Recorder } from '../../worker/metrics/recorder';
import type { Health, Snapshot } from '../../worker/metrics/snapshot';

/**
 * An in-process worker runtime for protocol tests, built the way `cli/run/once.ts` builds one:
 * a Recorder, a keep-alive undici Agent, an AbortController. Users made with `user()` are closed
 * by `close()`, so a test that fails half-way leaves no socket open.
 */
export interface TestRuntimeOptions {
  /** The run's target; relative URLs resolve against it. @default 'http://127.0.0.1:1' */
  target?: string;
  /** Default per-operation timeout, ms. @default 5000 */
  timeoutMs?: number;
  params?: Record<string, string>;
  /** @default 0 */
  worker?: number;
}

export interface UserOptions {
  /** @default 1 */
  id?: number;
  /** The run seed. @default 1 */
  seed?: number;
  /** Open-model lateness of the user against its due time, ms. @default 0 */
  lagMs?: number;
}

export interface TestRuntime {
  readonly runtime: Runtime;
  readonly recorder: Recorder;
  /** Aborting it cuts users in flight, as the engine does at a hard stop. */
  readonly controller: AbortController;
  user(options?: UserOptions): VirtualUser;
  /** The measurements since the previous call (the recorder's next interval). */
  snapshot(): Snapshot;
  /** Closes every user's connections, aborts the signal, destroys the dispatcher. Idempotent. */
  close(): Promise<void>;
}

/** Health of an idle generator: snapshots in tests carry it so that nothing reads as saturated. */
export const QUIET_HEALTH: Health = { cpuPct: 0, loopLagP99Ms: 0, loopLagMaxMs: 0, rssMb: 0, saturated: false };

export function createTestRuntime(options: TestRuntimeOptions = {}): TestRuntime {
  const recorder = new Recorder(options.worker ?? 0);
  const controller = new AbortController();
  const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder, keepAliveTimeoutMs: 10_000 });
  const runtime: Runtime = {
    worker: options.worker ?? 0,
    target: options.target ?? 'http://127.0.0.1:1',
    recorder,
    signal: controller.signal,
    dispatcher,
    params: options.params ?? {},
    timeoutMs: options.timeoutMs ?? 5000,
    sourceAddress: () => undefined,
  };
  const users: VirtualUser[] = [];
  let closed = false;
  return {
    runtime,
    recorder,
    controller,
    user({ id = 1, seed = 1, lagMs = 0 } = {}) {
      const u = new VirtualUser(id, runtime, seed, lagMs);
      users.push(u);
      return u;
    },
    snapshot: () => recorder.cut(QUIET_HEALTH, false),
    async close() {
      if (closed) return;
      closed = true;
      for (const u of users) u.scope.closeAll();
      controller.abort();
      await dispatcher.destroy();
    },
  };
}

/** One metric's histogram from a snapshot, in milliseconds; undefined when the metric is absent. */
export interface Latency {
  count: number;
  minMs: number;
  maxMs: number;
}

export function latency(snapshot: Snapshot, name: string): Latency | undefined {
  const encoded = snapshot.histograms[name];
  if (encoded === undefined) return undefined;
  const h = decodeHistogram(encoded);
  return { count: h.totalCount, minMs: h.minNonZeroValue / 1000, maxMs: h.maxValue / 1000 };
}

/** Names of the snapshot's latency metrics, sorted. */
export function metricNames(snapshot: Snapshot): string[] {
  return Object.keys(snapshot.histograms).sort();
}
