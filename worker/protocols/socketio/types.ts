import type { Socket } from 'socket.io-client';
import type { Duration } from '../../scenario/duration';

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
  /** Transport handshake plus the namespace's CONNECT, both (ETIMEDOUT no sooner, at most a few ms later). @default the scenario's http.timeout */
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
  /** Fails with ETIMEDOUT no sooner than this, at most a few ms later. @default the scenario's http.timeout */
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
