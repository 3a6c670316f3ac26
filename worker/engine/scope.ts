import { errorCode, isGeneratorCode, LoadError, StopError } from '../protocols/errors';
import type { Recorder } from '../metrics/recorder';
import type { RawEventSink } from '../metrics/raw-events';
import type { HttpDispatcher } from '../protocols/http-dispatcher';

/** Error code of an operation in flight when its user was cut at the grace deadline. */
export const CUT_IN_FLIGHT = 'CUT_IN_FLIGHT';

/** What every user of one worker shares. */
export interface Runtime {
  readonly worker: number;
  readonly target: string;
  readonly recorder: Recorder;
  /** Aborted when users in flight must be cut (grace over, hard stop). */
  readonly signal: AbortSignal;
  /** The worker's keep-alive HTTP dispatcher. */
  readonly dispatcher: HttpDispatcher;
  /** The run's `--param KEY=VALUE` pairs. */
  readonly params: Readonly<Record<string, string>>;
  /** Default per-request timeout for protocol operations, ms. */
  readonly timeoutMs: number;
  /** Every operation, when the run keeps raw events (`--raw-events`). */
  readonly events?: RawEventSink;
  /** Picks the local address for the next outgoing connection; undefined lets the OS choose. */
  readonly sourceAddress: () => string | undefined;
}

/** Something a user opened that must be closed when the user ends, however it ends. */
export interface Resource {
  destroy(): void;
}

/**
 * One user's bookkeeping for the protocol clients: timing from when work was due, recording
 * outcomes, and the connections to close when the user ends.
 */
export class UserScope {
  /** What the user has open: one resource in `only` (most users hold one connection), more in `resources`. */
  private only: Resource | undefined = undefined;
  private resources: Set<Resource> | undefined;

  /**
   * @param lagMs how late the user started against its due time (open model); the user's first
   *   timed operation counts from the due time, so that a late generator cannot hide latency.
   */
  constructor(
    readonly runtime: Runtime,
    private lagMs: number,
    /** The user's id, for raw events. */
    readonly userId = 0,
  ) {}

  /** Start time (performance.now() ms) of an operation. */
  begin(): number {
    const now = performance.now();
    if (this.lagMs === 0) return now;
    const start = now - this.lagMs;
    this.lagMs = 0;
    return start;
  }

  /**
   * Records a completed operation: latency from `start`, one op, payload bytes. `failure` marks
   * an exchange that completed but failed (HTTP 503, an unexpected reply): it is timed all the
   * same and its code counted as an error.
   */
  ok(name: string, start: number, sent = 0, received = 0, failure?: string): number {
    const ms = performance.now() - start;
    const r = this.runtime.recorder;
    r.latency(name, ms);
    r.op();
    if (sent !== 0 || received !== 0) r.bytes(sent, received);
    if (failure !== undefined) r.error(failure);
    this.runtime.events?.event(this.userId, name, ms, sent, received, failure === undefined, failure);
    return ms;
  }

  /**
   * Records a failed operation and returns the error to throw (a StopError is passed through
   * unrecorded). `what` names the operation in the message and in raw events.
   */
  fail(err: unknown, what: string): Error {
    if (err instanceof LoadError && err.recorded) return err;
    if (this.runtime.signal.aborted) return this.abandon(what);
    if (err instanceof StopError) return err;
    const code = errorCode(err);
    const r = this.runtime.recorder;
    r.op();
    if (isGeneratorCode(code)) r.generatorError(code);
    else r.error(code);
    this.runtime.events?.event(this.userId, what, 0, 0, 0, false, code);
    const message = err instanceof Error ? err.message : String(err);
    return new LoadError(code, `${what}: ${code}${message && !message.includes(code) ? ` (${message})` : ''}`, true, { cause: err });
  }

  /**
   * An operation that will never complete because its user ends. When the run's cut signal is
   * aborted (grace over, hard stop), the abandoned operation is counted: one op and one
   * `CUT_IN_FLIGHT` error, since the target may have received it and no outcome was seen. When a
   * user simply ends with a wait pending, nothing is counted. Returns the error to reject with.
   */
  abandon(what: string): Error {
    if (!this.runtime.signal.aborted) return new StopError();
    const r = this.runtime.recorder;
    r.op();
    r.error(CUT_IN_FLIGHT);
    this.runtime.events?.event(this.userId, what, 0, 0, 0, false, CUT_IN_FLIGHT);
    return new LoadError(CUT_IN_FLIGHT, `${what}: cut at the grace deadline while in flight`, true);
  }

  /** A user-timed block (`u.time`): its latency only. It is not an operation of its own. */
  timing(name: string, start: number): number {
    const ms = performance.now() - start;
    this.runtime.recorder.latency(name, ms);
    return ms;
  }

  track(resource: Resource): void {
    if (this.resources === undefined && (this.only === undefined || this.only === resource)) {
      this.only = resource;
      return;
    }
    if (this.resources === undefined) {
      this.resources = new Set([this.only!]);
      this.only = undefined;
    }
    this.resources.add(resource);
  }

  untrack(resource: Resource): void {
    if (this.only === resource) this.only = undefined;
    else this.resources?.delete(resource);
  }

  /** Destroys whatever the user left open. */
  closeAll(): void {
    const only = this.only;
    if (only !== undefined) {
      this.only = undefined;
      only.destroy();
    }
    if (!this.resources) return;
    const all = [...this.resources];
    this.resources.clear();
    for (const r of all) r.destroy();
  }
}
