import { Waiter as BaseWaiter, type WaiterOwner as BaseOwner } from '../waiter';
import type { SocketIoArgs } from './types';

/** A pending `waitFor` on one connection: the first `event` whose arguments its predicate accepts. */
export class Waiter extends BaseWaiter<SocketIoArgs, ((...args: any[]) => boolean) | undefined> {
  constructor(
    owner: WaiterOwner,
    readonly event: string,
    predicate: ((...args: any[]) => boolean) | undefined,
    metric: string,
    start: number,
    timeoutMs: number,
  ) {
    super(owner, predicate, metric, start, timeoutMs);
  }
}

export type WaiterOwner = BaseOwner<Waiter>;
