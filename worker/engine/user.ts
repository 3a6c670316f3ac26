import { createRng, userSeed, type Rng } from './rng';
import { nap } from './naps';
import { UserScope, type Runtime } from './scope';
import { errorCode, LoadError, StopError } from '../protocols/errors';
import { createHttpClient, type HttpClient } from '../protocols/http';
import { createWsClient, type WsClient } from '../protocols/ws';
import { createTcpClient, type TcpClient } from '../protocols/tcp';
import { createSocketIoClient, type SocketIoClient } from '../protocols/socketio';
import type { User } from '../scenario/types';
import { TIMER_MAX_MS } from '../scenario/limits';
import { dataViews } from '../data/set';
import type { DataViews } from '../data/types';

/**
 * The `u` a journey receives. Protocol clients are made on first use, so a user costs only
 * what it touches.
 */
export class VirtualUser implements User {
  private _rng?: Rng;
  iteration = 0;
  readonly scope: UserScope;
  private _http?: HttpClient;
  private _ws?: WsClient;
  private _tcp?: TcpClient;
  private _socketio?: SocketIoClient;

  constructor(
    readonly id: number,
    private readonly runtime: Runtime,
    runSeed: number,
    lagMs: number,
    /** performance.now() ms when this worker's load ends. */
    private readonly loadEndsAt = Infinity,
  ) {
    this.runSeed = runSeed;
    this.scope = new UserScope(runtime, lagMs, id);
  }

  private readonly runSeed: number;

  private _vars?: Record<string, unknown>;
  /** Made on first use: most users that only wait keep no state. */
  get vars(): Record<string, unknown> {
    return (this._vars ??= {});
  }

  /** Made on first use: a user that draws nothing costs no generator. */
  get rng(): Rng {
    return (this._rng ??= createRng(userSeed(this.runSeed, this.id)));
  }

  get worker() {
    return this.runtime.worker;
  }
  get target() {
    return this.runtime.target;
  }
  get params() {
    return this.runtime.params;
  }
  get http() {
    return (this._http ??= createHttpClient(this.scope));
  }
  get ws() {
    return (this._ws ??= createWsClient(this.scope, this));
  }
  get tcp() {
    return (this._tcp ??= createTcpClient(this.scope));
  }
  get socketio() {
    return (this._socketio ??= createSocketIoClient(this.scope));
  }
  private _data?: DataViews;
  /** Made on first use: a user that draws no data costs nothing. */
  get data(): DataViews {
    return (this._data ??= dataViews(this.runtime, this.scope, () => this.rng));
  }

  endsIn(): number {
    return Math.max(0, this.loadEndsAt - performance.now());
  }

  think(min: number, max?: number): Promise<void> {
    const seconds = max === undefined ? min : this.rng.float(min, max);
    // Node fires a timer longer than 2^31-1 ms after 1 ms: longer thinks are clamped (the run's deadline comes first).
    return nap(this.runtime.signal, Math.min(Math.max(0, seconds * 1000), TIMER_MAX_MS));
  }

  async time<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const start = this.scope.begin();
    try {
      const value = await fn();
      this.scope.timing(name, start);
      return value;
    } catch (err) {
      // A client failure inside was counted where it happened; a block that threw anything
      // else counts as one failed operation; a user's stop is not a failure.
      if (err instanceof StopError) throw err;
      throw this.scope.fail(err, name);
    }
  }

  count(name: string, n = 1): void {
    this.runtime.recorder.count(name, n);
  }

  check(name: string, ok: boolean): boolean {
    this.runtime.recorder.check(name, ok);
    this.runtime.events?.event(this.id, `check ${name}`, 0, 0, 0, ok, ok ? undefined : `check ${name}`);
    return ok;
  }
}

/** Records a journey's uncaught failure once (clients already recorded their own). */
export function recordJourneyFailure(runtime: Runtime, err: unknown, userId = 0): void {
  if (err instanceof StopError || runtime.signal.aborted) return;
  if (err instanceof LoadError && err.recorded) return;
  runtime.recorder.op();
  runtime.recorder.error(`exception ${errorCode(err)}`);
  runtime.events?.event(userId, 'journey', 0, 0, 0, false, `exception ${errorCode(err)}`);
}
