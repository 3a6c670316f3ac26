import { Deadline } from '../deadlines';
import type { WsMessage } from './types';

/** What a pending wait reports its timeout to. */
export interface WaiterOwner {
  /** `w`'s deadline passed (it is disarmed already): drop it and fail it with ETIMEDOUT. */
  timedOut(w: Waiter): void;
}

/**
 * A pending `waitFor` (or the wait of a `request`): resolved with the first matching message,
 * bounded by the worker's deadline list (no timer or closure of its own), never before `timeoutMs`.
 */
export class Waiter extends Deadline {
  resolve!: (msg: WsMessage) => void;
  reject!: (err: Error) => void;

  constructor(
    private readonly owner: WaiterOwner,
    readonly predicate: (msg: WsMessage) => boolean,
    /** `ws.<name>`. */
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
