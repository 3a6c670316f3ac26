import { Manager, type ManagerOptions, type Socket } from 'socket.io-client';
import { parseDuration } from '../../scenario/duration';
import { LoadError, StopError } from '../errors';
import type { Resource, UserScope } from '../../engine/scope';
import { DISCONNECT_CODES, transportCode } from './codes';
import { emitMetric, receivedMetric } from './names';
import { arm, disarm } from '../deadlines';
import { Opening, type OpeningOwner } from './opening';
import { Waiter, type WaiterOwner } from './waiter';
import type { SocketIoAckOptions, SocketIoArgs, SocketIoConnection, SocketIoWaitOptions } from './types';

function payloadBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  return (data as { byteLength?: number } | null)?.byteLength ?? 0;
}

const CONNECTING = 0;
const OPEN = 1;
/** Closed by the server or the scenario: operations fail with `closeError`. */
const CLOSED = 2;
/** Destroyed at the user's end: pending operations end with StopError. */
const STOPPED = 3;

/**
 * The connection a socket.io Socket (or its Engine.IO socket) belongs to, read by the shared
 * listeners below: the emitters call them with `this` set to themselves, so a connection adds no
 * closure of its own to either.
 */
const kConnection = Symbol('loadfarm connection');
type Owned = { [kConnection]?: Connection };

function onSocketConnect(this: Owned): void {
  this[kConnection]?.connected();
}

function onSocketConnectError(this: Owned, err: Error): void {
  this[kConnection]?.connectError(err);
}

function onSocketDisconnect(this: Owned, reason: string, description?: unknown): void {
  this[kConnection]?.disconnected(reason, description);
}

function onSocketEvent(this: Owned, event: string, ...args: SocketIoArgs): void {
  this[kConnection]?.received(event, args);
}

function onEngineData(this: Owned, data: unknown): void {
  this[kConnection]?.scope.runtime.recorder.bytes(0, payloadBytes(data));
}

function onEnginePacketCreate(this: Owned, packet: { type: string; data?: unknown }): void {
  if (packet.type === 'message') this[kConnection]?.scope.runtime.recorder.bytes(payloadBytes(packet.data), 0);
}

export class Connection implements SocketIoConnection, Resource, OpeningOwner, WaiterOwner {
  readonly socket: Socket;
  private state = CONNECTING;
  private opening: Opening | undefined;
  /** Made on the first wait that has to wait: an idle connection holds none. */
  private waiters: Waiter[] | undefined;
  /** Made when an event is first kept: an idle connection holds none. */
  private inbox: Map<string, SocketIoArgs[]> | undefined;
  private lastEmit = 0;
  private closeError: LoadError | undefined;

  constructor(
    /** @internal */ readonly scope: UserScope,
    /** `socketio <origin><namespace>`, for error messages. */
    private readonly label: string,
    origin: string,
    namespace: string,
    auth: Record<string, unknown> | undefined,
    managerOptions: Partial<ManagerOptions>,
    private readonly inboxSize: number,
    opening: Opening,
  ) {
    this.opening = opening;
    opening.owner = this;
    // One Manager per connection (what io()'s forceNew/multiplex: false give), no reconnection.
    const socket = new Manager(origin, managerOptions).socket(namespace, auth ? { auth } : {});
    this.socket = socket;
    (socket as Owned)[kConnection] = this;
    socket.on('connect', onSocketConnect);
    socket.on('connect_error', onSocketConnectError);
    socket.on('disconnect', onSocketDisconnect);
    socket.onAny(onSocketEvent);
  }

  /** Starts the handshake; fails it with ETIMEDOUT unless the namespace connects within the opening's timeout. */
  open(): void {
    arm(this.opening!, this.opening!.timeoutMs);
    this.socket.connect();
    // The Engine.IO socket exists once connect() has opened the Manager.
    const engine = this.socket.io.engine;
    (engine as unknown as Owned)[kConnection] = this;
    engine.on('data', onEngineData);
    engine.on('packetCreate', onEnginePacketCreate);
  }

  get id() {
    return this.socket.id;
  }

  get isConnected() {
    return this.state === OPEN && this.socket.connected;
  }

  /** @internal The namespace connected. */
  connected(): void {
    const o = this.opening;
    if (o === undefined) return;
    this.opening = undefined;
    disarm(o);
    this.state = OPEN;
    // Needed only while opening: an idle connection keeps as few listeners as it can.
    this.socket.off('connect', onSocketConnect);
    this.socket.off('connect_error', onSocketConnectError);
    this.scope.ok('socketio.connect', o.start);
    this.scope.runtime.recorder.connectionOpened();
    o.resolve(this);
  }

  /** @internal */
  connectError(err: Error): void {
    const code = transportCode(err) ?? 'SOCKETIO_CONNECT_ERROR';
    // A middleware's rejection carries the server's message; a transport failure, its own and the cause's.
    const cause = (err as { description?: { error?: { message?: string } } }).description?.error?.message;
    this.failOpening(new LoadError(code, cause ? `${err.message}: ${cause}` : String(err.message ?? err), false, { cause: err }));
  }

  /** @internal */
  openTimedOut(timeoutMs: number): void {
    this.failOpening(new LoadError('ETIMEDOUT', `not connected within ${timeoutMs} ms`, false));
  }

  private failOpening(err: Error) {
    const o = this.opening;
    if (o === undefined) return;
    this.opening = undefined;
    disarm(o);
    this.state = CLOSED;
    this.scope.untrack(this);
    this.socket.disconnect(); // closes the Manager and its transport, whatever stage they reached
    o.reject(this.scope.fail(err, `${this.label} connect`));
  }

  /** @internal */
  disconnected(reason: string, description?: unknown): void {
    if (this.opening !== undefined) {
      this.failOpening(new LoadError(DISCONNECT_CODES[reason] ?? 'ECONNRESET', `closed before the namespace connected (${reason})`, false));
      return;
    }
    if (this.state !== OPEN) return; // the scenario or the user's end closed it
    this.state = CLOSED;
    const rec = this.scope.runtime.recorder;
    rec.connectionClosed();
    rec.count(`socketio.disconnect ${reason}`);
    this.scope.untrack(this);
    const code = (reason === 'transport error' ? transportCode(description) : undefined) ?? DISCONNECT_CODES[reason] ?? 'ECONNRESET';
    this.close(new LoadError(code, `disconnected by the server (${reason})`, false));
  }

  /** Fails every pending wait with `err`; acks are failed by socket.io right after (see `ack`). */
  private close(err: LoadError) {
    this.closeError = err;
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) {
      disarm(w);
      w.reject(this.scope.fail(err, `${this.label} ${w.metric}`));
    }
  }

  /** @internal A wait's deadline passed. */
  timedOut(w: Waiter): void {
    const waiters = this.waiters;
    if (waiters !== undefined) {
      const i = waiters.indexOf(w);
      if (i !== -1) waiters.splice(i, 1);
    }
    w.reject(this.scope.fail(new LoadError('ETIMEDOUT', `no matching '${w.event}' within ${w.timeoutMs} ms`, false), `${this.label} ${w.metric}`));
  }

  /** @internal An event from the server. */
  received(event: string, args: SocketIoArgs): void {
    this.scope.runtime.recorder.count(receivedMetric(event));
    const waiters = this.waiters;
    if (waiters !== undefined) {
      for (let i = 0; i < waiters.length; i++) {
        const w = waiters[i];
        if (w.event !== event) continue;
        let matched: boolean;
        try {
          matched = w.predicate === undefined || w.predicate(...args);
        } catch (err) {
          // A predicate that throws fails its own wait, not the connection.
          waiters.splice(i--, 1);
          disarm(w);
          w.reject(this.scope.fail(err, `${this.label} ${w.metric}`));
          continue;
        }
        if (matched) {
          waiters.splice(i, 1);
          disarm(w);
          this.scope.ok(w.metric, w.start);
          w.resolve(args);
          return;
        }
      }
    }
    if (this.inboxSize === 0 || this.socket.hasListeners(event)) return;
    const inbox = (this.inbox ??= new Map());
    let queue = inbox.get(event);
    if (queue === undefined) inbox.set(event, (queue = []));
    else if (queue.length >= this.inboxSize) {
      queue.shift();
      this.scope.runtime.recorder.count('socketio.inbox_dropped');
    }
    queue.push(args);
  }

  private closedError(): LoadError {
    return this.closeError ?? new LoadError('ECONNRESET', 'the connection is closed', false);
  }

  emit(event: string, ...args: unknown[]): void {
    if (this.state !== OPEN) throw this.scope.fail(this.closedError(), `${this.label} emit ${event}`);
    this.lastEmit = this.scope.begin();
    this.socket.emit(event, ...args);
    this.scope.runtime.recorder.count(emitMetric(event));
  }

  ack<A extends SocketIoArgs>(event: string, args: readonly unknown[] = [], options: SocketIoAckOptions = {}): Promise<A> {
    const metric = `socketio.${options.name ?? `ack ${event}`}`;
    if (this.state !== OPEN) return Promise.reject(this.scope.fail(this.closedError(), `${this.label} ${metric}`));
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    const start = this.scope.begin();
    this.scope.runtime.recorder.count(emitMetric(event));
    return new Promise<A>((resolve, reject) => {
      // socket.io keeps the ack's timer and calls back with an error on timeout or disconnect;
      // which of the two it was is read from this connection's state, set before acks are failed.
      this.socket.timeout(timeoutMs).emit(event, ...args, (err: Error | null, ...reply: unknown[]) => {
        if (err === null) {
          this.scope.ok(metric, start);
          resolve(reply as A);
        } else if (this.state === STOPPED) reject(this.scope.abandon(`${this.label} ${metric}`));
        else if (this.state === CLOSED) reject(this.scope.fail(this.closedError(), `${this.label} ${metric}`));
        else reject(this.scope.fail(new LoadError('ETIMEDOUT', `no ack within ${timeoutMs} ms`, false), `${this.label} ${metric}`));
      });
    });
  }

  waitFor<A extends SocketIoArgs>(
    event: string,
    predicateOrOptions?: ((...args: A) => boolean) | SocketIoWaitOptions,
    maybeOptions?: SocketIoWaitOptions,
  ): Promise<A> {
    const predicate = typeof predicateOrOptions === 'function' ? predicateOrOptions : undefined;
    const options = (typeof predicateOrOptions === 'function' ? maybeOptions : predicateOrOptions) ?? {};
    const metric = `socketio.${options.name ?? event}`;
    const start = this.lastEmit || this.scope.begin();
    this.lastEmit = 0;
    const queue = this.inbox?.get(event);
    if (queue !== undefined) {
      for (let i = 0; i < queue.length; i++) {
        let matched: boolean;
        try {
          matched = predicate === undefined || predicate(...(queue[i] as A));
        } catch (err) {
          return Promise.reject(this.scope.fail(err, `${this.label} ${metric}`));
        }
        if (matched) {
          const [args] = queue.splice(i, 1);
          if (queue.length === 0) this.inbox!.delete(event);
          this.scope.ok(metric, start);
          return Promise.resolve(args as A);
        }
      }
    }
    if (this.state === STOPPED) return Promise.reject(new StopError());
    if (this.state !== OPEN) return Promise.reject(this.scope.fail(this.closedError(), `${this.label} ${metric}`));
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    const waiter = new Waiter(this, event, predicate as Waiter['predicate'], metric, start, timeoutMs);
    const promise = new Promise<A>((resolve, reject) => {
      waiter.resolve = resolve as Waiter['resolve'];
      waiter.reject = reject;
    });
    (this.waiters ??= []).push(waiter);
    arm(waiter, timeoutMs);
    return promise;
  }

  request<A extends SocketIoArgs>(
    event: string,
    args: readonly unknown[],
    responseEvent: string,
    predicateOrOptions?: ((...args: A) => boolean) | SocketIoWaitOptions,
    maybeOptions?: SocketIoWaitOptions,
  ): Promise<A> {
    if (this.state !== OPEN) {
      const options = (typeof predicateOrOptions === 'function' ? maybeOptions : predicateOrOptions) ?? {};
      return Promise.reject(this.scope.fail(this.closedError(), `${this.label} socketio.${options.name ?? responseEvent}`));
    }
    this.emit(event, ...args);
    return this.waitFor<A>(responseEvent, predicateOrOptions as (...args: A) => boolean, maybeOptions);
  }

  on(event: string, listener: (...args: SocketIoArgs) => void): void {
    // socket.io calls listeners from a nextTick: a throw there would end the whole worker.
    this.socket.on(event, (...args: SocketIoArgs) => {
      try {
        listener(...args);
      } catch (err) {
        this.scope.fail(err, `${this.label} on ${event}`);
      }
    });
  }

  disconnect(): void {
    if (this.state !== OPEN) return;
    this.state = CLOSED;
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    this.close(new LoadError('ECONNRESET', 'disconnected by the scenario', false));
    this.socket.disconnect();
  }

  /**
   * The user's end: pending waits and acks end with StopError, never counted — unless the run cut
   * the user at its grace deadline: then each is one CUT_IN_FLIGHT operation (UserScope.abandon).
   */
  destroy(): void {
    const o = this.opening;
    if (o !== undefined) {
      this.opening = undefined;
      disarm(o);
      this.state = STOPPED;
      this.socket.disconnect();
      o.reject(this.scope.abandon(`${this.label} connect`));
      return;
    }
    if (this.state === OPEN) this.scope.runtime.recorder.connectionClosed();
    if (this.state !== STOPPED) {
      this.state = STOPPED;
      const waiters = this.waiters;
      this.waiters = undefined;
      // A wait in flight when the run cuts its user counts as CUT_IN_FLIGHT; at a user's own end, nothing.
      if (waiters !== undefined) for (const w of waiters) {
        disarm(w);
        w.reject(this.scope.abandon(`${this.label} socketio wait`));
      }
    }
    this.socket.disconnect();
  }
}

