import { Deadline } from './deadlines';

/** What a pending wait reports its timeout to. */
export interface WaiterOwner<W> {
  /** `w`'s deadline passed (it is disarmed already): drop it and fail it with ETIMEDOUT. */
  timedOut(w: W): void;
}

/**
 * A pending wait of a connection for what it receives (a WebSocket message, a Socket.IO event):
 * resolved with the first `T` its predicate `P` accepts, bounded by the worker's deadline list
 * (no timer or closure of its own), never before `timeoutMs`.
 */
export class Waiter<T, P> extends Deadline {
  resolve!: (value: T) => void;
  reject!: (err: Error) => void;

  constructor(
    private readonly owner: WaiterOwner<Waiter<T, P>>,
    readonly predicate: P,
    /** The exchange's metric (`ws.<name>`, `socketio.<name>`). */
    readonly metric: string,
    /** performance.now() ms the exchange is timed from. */
    readonly start: number,
    readonly timeoutMs: number,
  ) {
    super();
  }

  expire(): void {
    this.owner.timedOut(this);
  }
}
