import { Manager, type ManagerOptions, type Socket } from 'socket.io-client';
import { parseDuration, type Duration } from '../scenario/duration';
import { LoadError, StopError } from './errors';
import type { Resource, UserScope } from '../engine/scope';

export type SocketIoTransport = 'websocket' | 'polling';

export interface SocketIoConnectOptions {
  /**
   * The namespace to join; a URL's path names it too, as with `io(url)`: `http://host:3000/chat`
   * joins `/chat`. @default the URL's path, `'/'` when it has none
   */
  namespace?: string;
  /** Sent with the namespace CONNECT packet; the server's middleware reads it as `socket.handshake.auth`. */
  auth?: Record<string, unknown>;
  /** Query parameters of the handshake, over the URL's own (`socket.handshake.query` on the server). */
  query?: Record<string, string>;
  /**
   * Transports in the order tried; with both, the connection starts on the first and upgrades.
   * @default ['websocket']
   */
  transports?: SocketIoTransport[];
  /** Transport handshake plus the namespace's CONNECT, both. @default the scenario's http.timeout */
  timeout?: Duration;
  /**
   * Extra HTTP headers: on the upgrade request with websocket, on every request with polling.
   * (Polling requests also leave from an address the OS picks, not the worker's source addresses.)
   */
  headers?: Record<string, string>;
  /** The server's Engine.IO path. @default '/socket.io' */
  path?: string;
  /** Offers permessage-deflate (costs memory per connection when the server accepts). @default false */
  compress?: boolean;
  /**
   * Unclaimed events kept per event name for later `waitFor`s; beyond it the oldest is dropped and
   * counted as `socketio.inbox_dropped`. Events with an `on()` listener are not kept. 0 keeps none.
   * @default 100
   */
  inbox?: number;
}

export interface SocketIoWaitOptions {
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /** Metric `socketio.<name>`. @default the awaited event's name */
  name?: string;
}

export interface SocketIoAckOptions {
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /** Metric `socketio.<name>`. @default `ack <event>` */
  name?: string;
}

/** An event's arguments as the server emitted them (a server that asks for an ack adds the callback last). */
export type SocketIoArgs = any[];

/**
 * One Socket.IO connection: its own Manager and Engine.IO socket, never reconnecting (the engine
 * decides when a user connects again). Every event received counts `socketio.received <event>`,
 * every event emitted (`emit`, `request`, `ack`) `socketio.emit <event>` (counters, not operations);
 * payload bytes are the Engine.IO message payloads both ways. Events no `waitFor` has claimed wait
 * in a per-event inbox (see `SocketIoConnectOptions.inbox`).
 *
 * A disconnect the scenario did not ask for counts `socketio.disconnect <reason>` and fails the
 * pending waits and acks: `ECONNRESET` (server disconnect, transport closed), `ETIMEDOUT` (ping
 * timeout), `EPROTO` (parse error), or the transport's own code.
 */
export interface SocketIoConnection {
  /** Fire and forget. Throws `ECONNRESET` (counted) once the connection is closed. */
  emit(event: string, ...args: unknown[]): void;
  /**
   * Emits `event` with `args` and resolves with the arguments of the server's acknowledgement,
   * timed as `socketio.ack <event>`. No ack in time: `ETIMEDOUT`, counted once.
   */
  ack<A extends SocketIoArgs = SocketIoArgs>(event: string, args?: readonly unknown[], options?: SocketIoAckOptions): Promise<A>;
  /**
   * Resolves with the arguments of the first `event` (already received or still to come) for
   * which `predicate(...args)` is true; timed from the last `emit` not yet claimed by a wait (else
   * from the call) as `socketio.<event>`. A predicate that throws fails the wait with that error.
   */
  waitFor<A extends SocketIoArgs = SocketIoArgs>(event: string, options?: SocketIoWaitOptions): Promise<A>;
  waitFor<A extends SocketIoArgs = SocketIoArgs>(event: string, predicate: (...args: A) => boolean, options?: SocketIoWaitOptions): Promise<A>;
  /** `emit(event, ...args)` then `waitFor(responseEvent, …)`, timed as one exchange under `socketio.<responseEvent>`. */
  request<A extends SocketIoArgs = SocketIoArgs>(event: string, args: readonly unknown[], responseEvent: string, options?: SocketIoWaitOptions): Promise<A>;
  request<A extends SocketIoArgs = SocketIoArgs>(
    event: string,
    args: readonly unknown[],
    responseEvent: string,
    predicate: (...args: A) => boolean,
    options?: SocketIoWaitOptions,
  ): Promise<A>;
  /**
   * Called for every `event` received, claimed by a wait or not; such events skip the inbox. A
   * listener that throws is counted as an error by its code, and the connection goes on.
   */
  on(event: string, listener: (...args: SocketIoArgs) => void): void;
  /** Sends the namespace DISCONNECT and closes the transport. Pending waits fail with `ECONNRESET`. */
  disconnect(): void;
  /** The session id the server gave, while connected. */
  readonly id: string | undefined;
  readonly isConnected: boolean;
  /** The underlying socket.io-client socket, for what this API does not cover. */
  readonly socket: Socket;
}

/** `u.socketio`: connections timed as `socketio.connect`, closed when the user ends. */
export interface SocketIoClient {
  /** `url` is `http(s)://` or `ws(s)://`, relative to the run's target. @default the run's target */
  connect(url?: string, options?: SocketIoConnectOptions): Promise<SocketIoConnection>;
}

const INBOX_DEFAULT = 100;

const ORIGIN_SCHEMES: Record<string, string> = { 'http:': 'http:', 'ws:': 'http:', 'https:': 'https:', 'wss:': 'https:' };

/** Socket.IO's disconnect reasons (a fixed set) to report codes; the rest are ECONNRESET. */
const DISCONNECT_CODES: Record<string, string> = { 'ping timeout': 'ETIMEDOUT', 'parse error': 'EPROTO' };

/** `socketio.received <event>` names, made once per event name (bounded: event names are the scenario's). */
const receivedNames = new Map<string, string>();
function receivedMetric(event: string): string {
  let name = receivedNames.get(event);
  if (name === undefined) {
    name = `socketio.received ${event}`;
    if (receivedNames.size < 1000) receivedNames.set(event, name);
  }
  return name;
}

/** `socketio.emit <event>` names, made once per event name (bounded as above). */
const emitNames = new Map<string, string>();
function emitMetric(event: string): string {
  let name = emitNames.get(event);
  if (name === undefined) {
    name = `socketio.emit ${event}`;
    if (emitNames.size < 1000) emitNames.set(event, name);
  }
  return name;
}

/**
 * The system code under an Engine.IO transport failure: `ws` reports it as `ErrorEvent.error`, the
 * polling XHR as `statusText` (an Error) or an HTTP status. Undefined when there is none.
 */
function transportCode(err: unknown): string | undefined {
  const e = err as { type?: unknown; description?: unknown; context?: unknown } | null;
  if (!e || e.type !== 'TransportError') return undefined;
  const inner = (e.description as { error?: { code?: unknown } } | null)?.error ?? (e.context as { statusText?: { code?: unknown } } | null)?.statusText;
  if (inner && typeof inner.code === 'string') return inner.code;
  if (typeof e.description === 'number' && e.description >= 100) return `HTTP ${e.description}`;
  return undefined;
}

function payloadBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  return (data as { byteLength?: number } | null)?.byteLength ?? 0;
}

interface Opening {
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

class Connection implements SocketIoConnection, Resource {
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

export function createSocketIoClient(scope: UserScope): SocketIoClient {
  const rt = scope.runtime;
  return {
    connect(url?: string, options: SocketIoConnectOptions = {}): Promise<SocketIoConnection> {
      const start = scope.begin();
      let target: URL;
      try {
        target = new URL(url ?? rt.target, rt.target);
      } catch (err) {
        return Promise.reject(scope.fail(new LoadError('EINVALIDURL', `not a URL: ${url ?? rt.target}`, false, { cause: err }), 'socketio connect'));
      }
      const scheme = ORIGIN_SCHEMES[target.protocol];
      if (scheme === undefined) {
        return Promise.reject(scope.fail(new LoadError('EINVALIDURL', `expected http(s):// or ws(s)://, received ${target.href}`, false), 'socketio connect'));
      }
      const origin = `${scheme}//${target.host}`;
      const ns = options.namespace ?? target.pathname;
      const namespace = ns === '' ? '/' : ns.startsWith('/') ? ns : `/${ns}`;
      const query = target.search === '' ? options.query : { ...Object.fromEntries(target.searchParams), ...options.query };
      const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
      const managerOptions: Partial<ManagerOptions> & { localAddress?: string } = {
        path: options.path ?? '/socket.io',
        transports: options.transports ?? ['websocket'],
        query,
        extraHeaders: options.headers,
        reconnection: false,
        autoConnect: false,
        // Our timer covers the transport handshake and the namespace CONNECT; `false` turns the
        // Manager's own (handshake only, reported by message) off.
        timeout: false as unknown as number,
        perMessageDeflate: (options.compress ? { threshold: 1024 } : false) as { threshold: number },
        localAddress: rt.sourceAddress(),
      };
      return new Promise<SocketIoConnection>((resolve, reject) => {
        const conn = new Connection(scope, `socketio ${origin}${namespace}`, origin, namespace, options.auth, managerOptions, options.inbox ?? INBOX_DEFAULT, { start, resolve, reject });
        // Tracked while connecting too, so that a user cut mid-handshake leaves nothing open.
        scope.track(conn);
        conn.open(timeoutMs);
      });
    },
  };
}
