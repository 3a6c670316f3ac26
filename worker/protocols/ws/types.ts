import type WebSocket from 'ws';
import type { Duration } from '../../scenario/duration';
import type { ReconnectOptions } from '../reconnect';

export interface WsConnectOptions {
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** Handshake timeout, for the first connect and every reconnect attempt. @default the scenario's http.timeout */
  timeout?: Duration;
  /** Enables permessage-deflate (costs memory per connection). @default false */
  compress?: boolean;
  /** Keeps the connection checked for life. @default none */
  heartbeat?: WsHeartbeatOptions;
  /** The client drops the connection itself at random times, as phones and flaky networks do. @default never */
  randomDisconnect?: WsRandomDisconnectOptions;
  /**
   * Reconnects the same connection object after a drop (server close, error, heartbeat timeout,
   * random disconnect), with exponential backoff and full jitter; `true` takes the defaults
   * (`base` 100ms, `cap` 10s, `maxAttempts` 10). @default no reconnection
   */
  reconnect?: ReconnectOptions | boolean;
}

/**
 * A heartbeat every `interval`, one timer per connection. Without `message`: a protocol ping, and
 * a pong must come within `timeout` (any pong counts, a `ping()`'s too). With `message`: that
 * app-level message, and no reply is awaited unless `expect` is given. A heartbeat unanswered
 * within `timeout` means the connection is dead: it is dropped, `ETIMEDOUT` counted once, and
 * reconnected when `reconnect` is on. Round trips are timed as `ws.heartbeat`; every heartbeat
 * sent counts `ws.heartbeats`.
 */
export interface WsHeartbeatOptions {
  interval: Duration;
  /** An app-level heartbeat (objects are sent as JSON) instead of a protocol ping. */
  message?: string | Buffer | object;
  /**
   * With `message`: recognises the reply. A message it matches while a reply is awaited is taken
   * by the heartbeat (listeners see it; `waitFor`s do not). A predicate that throws does not match.
   */
  expect?: (msg: WsMessage) => boolean;
  /** How long the pong (or the expected reply) may take. @default the interval */
  timeout?: Duration;
}

export interface WsRandomDisconnectOptions {
  /**
   * Mean connection lifetime: after every open the client closes the connection (close frame
   * 1000) after an exponentially distributed time drawn from the user's rng, so the same seed gives
   * the same times. Counted as `ws.random_disconnects`.
   */
  meanInterval: Duration;
}

/** What `onReconnect` listeners receive. */
export interface WsReconnectInfo {
  /** Attempts this reconnection took (1 when the first succeeded). */
  readonly attempts: number;
  /** From the drop to the new connection's open, ms (also recorded as `ws.reconnect`). */
  readonly downtimeMs: number;
}

export interface WsMessage {
  /** Text frames as a string, binary frames as bytes. */
  readonly data: string | Buffer;
  readonly isBinary: boolean;
  text(): string;
  json<T = any>(): T;
}

export interface WaitOptions {
  /** Fails with ETIMEDOUT no sooner than this, at most a few ms later. @default the scenario's http.timeout */
  timeout?: Duration;
  /** Metric `ws.<name>`; timed from the last `send` on this connection. @default 'reply' */
  name?: string;
}

/**
 * One WebSocket connection. Every data message counts: `ws.messages.sent` as it goes out (sends,
 * queued sends when they go, app-level heartbeats) and `ws.messages.received` as it arrives,
 * with its payload bytes; protocol pings and pongs are neither. Counters, not operations.
 * Messages that no `waitFor` has claimed yet wait in an inbox
 * (at most 1000, the oldest dropped beyond that and counted as `ws.inbox_dropped`).
 *
 * With `reconnect`, the same object outlives its sockets: while it reconnects, `send`s wait
 * (in order, at most 1000) and go out once it is open again, pending `waitFor`s keep waiting
 * until their own timeouts, and the inbox is kept. Metrics: `ws.reconnect_attempts` (every
 * attempt; a failed attempt is not an error), `ws.reconnects` and `ws.reconnect` (drop to open,
 * ms) for each success, and when `maxAttempts` run out `ws.reconnect_failed` plus the last
 * attempt's code as one error; pending waits and sends then fail with that error.
 */
export interface WsConnection {
  /**
   * Sends now when open and resolves at once. While reconnecting, queues the message and resolves
   * when it is sent, or rejects when reconnection gives up (no need to await it: an unawaited
   * rejection is not an unhandled one). Throws `ECONNRESET` (counted) once the connection is closed.
   */
  send(data: string | Buffer | object): Promise<void>;
  /**
   * Resolves with the first message (already received or still to come) matching `predicate`.
   * A predicate that throws fails the wait with that error.
   */
  waitFor(predicate: (msg: WsMessage) => boolean, options?: WaitOptions): Promise<WsMessage>;
  /** `send` then `waitFor`, timed as one exchange under `ws.<name>`. */
  request(data: string | Buffer | object, predicate: (msg: WsMessage) => boolean, options?: WaitOptions): Promise<WsMessage>;
  /** Sends a protocol ping and resolves with the round trip in ms (metric `ws.ping`). */
  ping(options?: { timeout?: Duration }): Promise<number>;
  /** Called for every message, claimed or not. */
  onMessage(listener: (msg: WsMessage) => void): void;
  /**
   * Called each time the connection is open again, before the sends queued meanwhile go out (so
   * a listener that sends, e.g. to authenticate again, goes first). Never called without `reconnect`.
   */
  onReconnect(listener: (info: WsReconnectInfo) => void): void;
  /** Closes for good: no reconnection after it. */
  close(code?: number, reason?: string): Promise<void>;
  readonly isOpen: boolean;
  /** True between a drop and the next open (or giving up). */
  readonly isReconnecting: boolean;
  /** The current underlying `ws` socket (a new one after each reconnect), for what this API does not cover. */
  readonly socket: WebSocket;
}

/** `u.ws`: connections timed as `ws.connect`, closed when the user ends. */
export interface WsClient {
  connect(url?: string, options?: WsConnectOptions): Promise<WsConnection>;
}
