import { Manager, type ManagerOptions, type Socket } from 'socket.io-client';
import { parseDuration } from '../../scenario/duration';
import { LoadError, StopError } from '../errors';
import type { Resource, UserScope } from '../../engine/scope';
import { DISCONNECT_CODES, transportCode } from './codes';
import { emitMetric, receivedMetric } from './names';
import type { SocketIoAckOptions, SocketIoArgs, SocketIoConnection, SocketIoWaitOptions } from './types';

function payloadBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  return (data as { byteLength?: number } | null)?.byteLength ?? 0;
}

export interface Opening {
  start: number;
  timer?: NodeJS.Timeout;
  resolve: (conn: SocketIoConnection) => void;
  reject: (err: Error) => void;
}

interface Waiter {
  event: string;
  predicate: ((...args: any[]) => boolean) | undefined;
  metric: string;
  start: number;
  resolve: (args: any[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const CONNECTING = 0;
const OPEN = 1;
/** Closed by the server or the scenario: operations fail with `closeError`. */
const CLOSED = 2;
/** Destroyed at the user's end: pending operations end with StopError. */
const STOPPED = 3;

export class Connection implements SocketIoConnection, Resource {
  readonly socket: Socket;
  private state = CONNECTING;
  private opening: Opening | undefined;
  private waiters: Waiter[] | undefined;
  private inbox: Map<string, SocketIoArgs[]> | undefined;
  private lastEmit = 0;
  private closeError: LoadError | undefined;

  constructor(
    private readonly scope: UserScope,
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
    // One Manager per connection (what io()'s forceNew/multiplex: false give), no reconnection.
    this.socket = new Manager(origin, managerOptions).socket(namespace, auth ? { auth } : {});
    this.socket.on('connect', this.onConnect);
    this.socket.on('connect_error', this.onConnectError);
    this.socket.on('disconnect', this.onDisconnect);
    this.socket.onAny(this.onEvent);
  }

  /** Starts the handshake; fails it with ETIMEDOUT unless the namespace connects within `timeoutMs`. */
  open(timeoutMs: number): void {
    this.opening!.timer = setTimeout(() => this.failOpening(new LoadError('ETIMEDOUT', `not connected within ${timeoutMs} ms`, false)), timeoutMs);
    this.socket.connect();
    // The Engine.IO socket exists once connect() has opened the Manager.
    const engine = this.socket.io.engine;
    engine.on('data', this.onData);
    engine.on('packetCreate', this.onPacketCreate);
  }

  get id() {
    return this.socket.id;
  }

  get isConnected() {
    return this.state === OPEN && this.socket.connected;
  }

  private onConnect = () => {
    const o = this.opening;
    if (o === undefined) return;
    this.opening = undefined;
    clearTimeout(o.timer);
    this.state = OPEN;
    // Needed only while opening: an idle connection keeps as few listeners as it can.
    this.socket.off('connect', this.onConnect);
    this.socket.off('connect_error', this.onConnectError);
    this.scope.ok('socketio.connect', o.start);
    this.scope.runtime.recorder.connectionOpened();
    o.resolve(this);
  };

  private onConnectError = (err: Error) => {
    const code = transportCode(err) ?? 'SOCKETIO_CONNECT_ERROR';
    // A middleware's rejection carries the server's message; a transport failure, its own and the cause's.
    const cause = (err as { description?: { error?: { message?: string } } }).description?.error?.message;
    this.failOpening(new LoadError(code, cause ? `${err.message}: ${cause}` : String(err.message ?? err), false, { cause: err }));
  };

  private failOpening(err: Error) {
    const o = this.opening;
    if (o === undefined) return;
    this.opening = undefined;
    clearTimeout(o.timer);
    this.state = CLOSED;
    this.scope.untrack(this);
    this.socket.disconnect(); // closes the Manager and its transport, whatever stage they reached
    o.reject(this.scope.fail(err, `${this.label} connect`));
  }

  private onDisconnect = (reason: string, description?: unknown) => {
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
  };

  /** Fails every pending wait with `err`; acks are failed by socket.io right after (see `ack`). */
  private close(err: LoadError) {
    this.closeError = err;
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(this.scope.fail(err, `${this.label} ${w.metric}`));
    }
  }

  private onEvent = (event: string, ...args: SocketIoArgs) => {
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
          clearTimeout(w.timer);
          w.reject(this.scope.fail(err, `${this.label} ${w.metric}`));
          continue;
        }
        if (matched) {
          waiters.splice(i, 1);
          clearTimeout(w.timer);
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
  };

  private onData = (data: unknown) => {
    this.scope.runtime.recorder.bytes(0, payloadBytes(data));
  };

  private onPacketCreate = (packet: { type: string; data?: unknown }) => {
    if (packet.type === 'message') this.scope.runtime.recorder.bytes(payloadBytes(packet.data), 0);
  };

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
    return new Promise<A>((resolve, reject) => {
      const waiter: Waiter = {
        event,
        predicate: predicate as Waiter['predicate'],
        metric,
        start,
        resolve: resolve as Waiter['resolve'],
        reject,
        timer: setTimeout(() => {
          const waiters = this.waiters!;
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(this.scope.fail(new LoadError('ETIMEDOUT', `no matching '${event}' within ${timeoutMs} ms`, false), `${this.label} ${metric}`));
        }, timeoutMs),
      };
      (this.waiters ??= []).push(waiter);
    });
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
      clearTimeout(o.timer);
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
        clearTimeout(w.timer);
        w.reject(this.scope.abandon(`${this.label} socketio wait`));
      }
    }
    this.socket.disconnect();
  }
}

