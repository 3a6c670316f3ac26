import { Deadline } from '../deadlines';
import type { SocketIoArgs } from './types';

/** What a pending wait reports its timeout to. */
export interface WaiterOwner {
  /** `w`'s deadline passed (it is disarmed already): drop it and fail it with ETIMEDOUT. */
  timedOut(w: Waiter): void;
}

/**
 * A pending `waitFor` on one connection: resolved by the first matching event, bounded by the
 * worker's deadline list (no timer or closure of its own), never before `timeoutMs`.
 */
export class Waiter extends Deadline {
  resolve!: (args: SocketIoArgs) => void;
  reject!: (err: Error) => void;

  constructor(
    private readonly owner: WaiterOwner,
    readonly event: string,
    readonly predicate: ((...args: any[]) => boolean) | undefined,
    /** `socketio.<name>`. */
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
