import { Deadline } from '../deadlines';
import type { SocketIoConnection } from './types';

/** What an opening reports its timeout to. */
export interface OpeningOwner {
  /** The namespace did not connect within `timeoutMs`. */
  openTimedOut(timeoutMs: number): void;
}

/**
 * A connection's handshake in progress (transport, then the namespace's CONNECT): timed as
 * `socketio.connect` from `start`, bounded by the worker's deadline list. Dropped once the
 * connection is open: an idle connection keeps none of it.
 */
export class Opening extends Deadline {
  owner: OpeningOwner | undefined = undefined;

  constructor(
    readonly start: number,
    readonly timeoutMs: number,
    readonly resolve: (conn: SocketIoConnection) => void,
    readonly reject: (err: Error) => void,
  ) {
    super();
  }

  expire(): void {
    this.owner?.openTimedOut(this.timeoutMs);
  }
}
