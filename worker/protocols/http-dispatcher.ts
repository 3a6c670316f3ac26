import { buildConnector, Client, type Dispatcher } from 'undici';
import type { Recorder } from '../metrics/recorder';

export interface HttpDispatcherProps {
  /** Keep-alive connections per origin; null for no limit. */
  readonly connections: number | null;
  /** Picks the local address of each new connection; undefined lets the OS choose. */
  readonly sourceAddress: () => string | undefined;
  /** Told of every socket the dispatcher opens (`connectionOpened`, counter) and of its close (`connectionClosed`). */
  readonly recorder: Pick<Recorder, 'connectionOpened' | 'connectionClosed' | 'count'>;
  /** How long an idle keep-alive connection is kept, ms. @default 30000 */
  readonly keepAliveTimeoutMs?: number;
}

/**
 * What the dispatcher needs of a request's handler: the slot it was given, and `done()` called
 * exactly once by the handler when undici is finished with the request (`onComplete` or
 * `onError`, including after an abort), which frees the slot for the next request.
 */
export interface SlotHandler extends Dispatcher.DispatchHandler {
  slot: Slot | undefined;
  /**
   * True once the request has ended without being sent (its deadline passed while it waited for
   * a connection): the pool drops it instead of handing it a connection, whose socket undici
   * would close to abort it.
   */
  readonly cancelled: boolean;
}

/**
 * One keep-alive connection of an origin: an undici Client with one request at a time. A Client
 * reconnects by itself when its socket was closed (by the server, or by keep-alive expiry).
 */
export class Slot {
  /** A request of ours is on it (from dispatch to the handler's end). */
  busy = false;
  /** Listed in its pool's idle stack (it may be busy again there: then it is skipped). */
  listed = false;
  constructor(
    readonly client: Client,
    readonly pool: OriginPool,
  ) {}
}

/**
 * The worker's keep-alive HTTP dispatcher (`u.http` goes through it): per origin, a pool of
 * connections of one request each. A user's next request goes to the connection that served its
 * previous one when that is free (`pin`), so a closed loop reuses its connection without waiting
 * for it to be handed back; otherwise to any free connection, or a new one up to `connections`,
 * or it waits for the first to free up (FIFO).
 *
 * Every TCP/TLS connection it establishes counts once in the counter `http.connections` (a
 * counter, not an operation: many of them for few requests means keep-alive is not working) and
 * in the `connections` gauge from its connect until its socket closes, whichever side closes it.
 * A connect that fails is in neither (it is the request's error).
 */
export class HttpDispatcher {
  private readonly pools = new Map<string, OriginPool>();
  private readonly clientOptions: Client.Options;
  private closed = false;

  constructor(private readonly p: HttpDispatcherProps) {
    const base = buildConnector({});
    const { recorder } = p;
    const connect: buildConnector.connector = (options, callback) =>
      base(withSource(options, p.sourceAddress()), (err, socket) => {
        if (err === null) {
          recorder.connectionOpened();
          recorder.count('http.connections');
          socket.once('close', () => recorder.connectionClosed());
          callback(null, socket);
        } else callback(err, null);
      });
    this.clientOptions = { keepAliveTimeout: p.keepAliveTimeoutMs ?? 30_000, connect };
  }

  /**
   * Sends `opts` (whose `origin` names the pool) with `handler`, preferably on `pin` (the slot of
   * the user's previous request). The handler must call `release(handler)` once, when undici
   * is finished with it. After close()/destroy() the handler fails at once.
   */
  dispatch(opts: Dispatcher.DispatchOptions, handler: SlotHandler, pin: Slot | undefined): void {
    if (this.closed) {
      handler.onError!(closedError());
      return;
    }
    const origin = String(opts.origin);
    let pool = pin !== undefined && pin.pool.origin === origin ? pin.pool : this.pools.get(origin);
    if (pool === undefined) this.pools.set(origin, (pool = new OriginPool(origin, this.p.connections, this.clientOptions)));
    pool.dispatch(opts, handler, pin);
  }

  /** Closes every connection once its requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.end(false)));
  }

  /** Closes every connection now; requests in flight or waiting fail. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.end(true)));
  }
}

/** Frees `handler`'s slot; the next waiting request of its pool (if any) takes it. Idempotent. */
export function release(handler: SlotHandler): void {
  const slot = handler.slot;
  if (slot === undefined) return;
  handler.slot = undefined;
  slot.pool.free(slot);
}

/** One origin's connections. */
class OriginPool {
  private readonly slots: Slot[] = [];
  /** Free slots, most recently freed last; a listed slot taken through a pin stays listed (busy). */
  private readonly idle: Slot[] = [];
  private waiting: [Dispatcher.DispatchOptions, SlotHandler][] = [];
  private waitingHead = 0;

  constructor(
    readonly origin: string,
    private readonly limit: number | null,
    private readonly options: Client.Options,
  ) {}

  dispatch(opts: Dispatcher.DispatchOptions, handler: SlotHandler, pin: Slot | undefined): void {
    let slot = pin !== undefined && pin.pool === this && !pin.busy && !pin.client.destroyed ? pin : this.takeIdle();
    if (slot === undefined) {
      if (this.limit !== null && this.slots.length >= this.limit) {
        this.waiting.push([opts, handler]);
        return;
      }
      slot = new Slot(new Client(this.origin, this.options), this);
      this.slots.push(slot);
    }
    this.send(slot, opts, handler);
  }

  free(slot: Slot): void {
    slot.busy = false;
    if (slot.client.destroyed) return;
    while (this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead];
      this.waiting[this.waitingHead++] = undefined!;
      if (this.waitingHead === this.waiting.length) {
        this.waiting = [];
        this.waitingHead = 0;
      }
      if (next[1].cancelled) continue;
      this.send(slot, next[0], next[1]);
      return;
    }
    if (!slot.listed) {
      slot.listed = true;
      this.idle.push(slot);
    }
  }

  async end(destroy: boolean): Promise<void> {
    const waiting = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    for (const [, h] of waiting) h.onError!(closedError());
    await Promise.all(this.slots.map((s) => (destroy ? s.client.destroy() : s.client.close()).catch(() => undefined)));
  }

  private takeIdle(): Slot | undefined {
    while (this.idle.length > 0) {
      const s = this.idle.pop()!;
      s.listed = false;
      if (!s.busy && !s.client.destroyed) return s;
    }
    return undefined;
  }

  private send(slot: Slot, opts: Dispatcher.DispatchOptions, handler: SlotHandler): void {
    slot.busy = true;
    handler.slot = slot;
    slot.client.dispatch(opts, handler);
  }
}

/** What a request gets once the dispatcher is closed or destroyed. */
function closedError(): Error {
  return Object.assign(new Error('the HTTP dispatcher is closed'), { code: 'UND_ERR_DESTROYED' });
}

/** `options` with `localAddress` when one is picked (no undefined key: see ws/config.ts). */
function withSource(options: buildConnector.Options, localAddress: string | undefined): buildConnector.Options {
  return localAddress === undefined ? options : { ...options, localAddress };
}

/** The worker's dispatcher (see HttpDispatcher). */
export function createHttpDispatcher(p: HttpDispatcherProps): HttpDispatcher {
  return new HttpDispatcher(p);
}
