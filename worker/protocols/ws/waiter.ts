import { Waiter as BaseWaiter, type WaiterOwner as BaseOwner } from '../waiter';
import type { WsMessage } from './types';

/** A pending `waitFor` (or the wait of a `request`): the first message its predicate accepts. */
export class Waiter extends BaseWaiter<WsMessage, (msg: WsMessage) => boolean> {
  // Explicit: a derived class's default constructor passes its arguments on by spreading them,
  // and a Waiter is made for every exchange.
  constructor(owner: WaiterOwner, predicate: (msg: WsMessage) => boolean, metric: string, start: number, timeoutMs: number) {
    super(owner, predicate, metric, start, timeoutMs);
  }
}

export type WaiterOwner = BaseOwner<Waiter>;
