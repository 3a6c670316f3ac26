import { Waiter as BaseWaiter, type WaiterOwner as BaseOwner } from '../waiter';
import type { WsMessage } from './types';

/** A pending `waitFor` (or the wait of a `request`): the first message its predicate accepts. */
export class Waiter extends BaseWaiter<WsMessage, (msg: WsMessage) => boolean> {}

export type WaiterOwner = BaseOwner<Waiter>;
