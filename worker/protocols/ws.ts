import WebSocket from 'ws';
import { parseDuration, type Duration } from '../scenario/duration';
import { LoadError, StopError } from './errors';
import type { UserScope } from '../engine/scope';

export interface WsConnectOptions {
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** Handshake timeout. @default the scenario's http.timeout */
  timeout?: Duration;
  /** Enables permessage-deflate (costs memory per connection). @default false */
  compress?: boolean;
}

export interface WsMessage {
  /** Text frames as a string, binary frames as bytes. */
  readonly data: string | Buffer;
  readonly isBinary: boolean;
  text(): string;
  json<T = any>(): T;
}

export interface WaitOptions {
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /** Metric `ws.<name>`; timed from the last `send` on this connection. @default 'reply' */
  name?: string;
}

/**
 * One WebSocket connection. Messages that no `waitFor` has claimed yet wait in an inbox
 * (at most 1000, the oldest dropped beyond that and counted as `ws.inbox_dropped`).
 */
export interface WsConnection {
  send(data: string | Buffer | object): void;
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
  close(code?: number, reason?: string): Promise<void>;
  readonly isOpen: boolean;
  /** The underlying `ws` socket, for what this API does not cover. */
  readonly socket: WebSocket;
}

/** `u.ws`: connections timed as `ws.connect`, closed when the user ends. */
export interface WsClient {
  connect(url?: string, options?: WsConnectOptions): Promise<WsConnection>;
}

const INBOX_MAX = 1000;

class Message implements WsMessage {
  private parsed: unknown;
  constructor(readonly data: string | Buffer, readonly isBinary: boolean) {}
  text(): string {
    return typeof this.data === 'string' ? this.data : this.data.toString('utf8');
  }
  json<T>(): T {
    return (this.parsed ??= JSON.parse(this.text())) as T;
  }
}

interface Waiter {
  predicate: (msg: WsMessage) => boolean;
  resolve: (msg: WsMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class Connection implements WsConnection {
  private inbox: Message[] = [];
  private waiters: Waiter[] = [];
  private listeners: ((msg: WsMessage) => void)[] = [];
  private lastSend = 0;
  private closed = false;

  constructor(
    readonly socket: WebSocket,
    private readonly scope: UserScope,
    private readonly url: string,
  ) {
    const rec = scope.runtime.recorder;
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      rec.bytes(0, raw.length);
      const msg = new Message(isBinary ? raw : raw.toString('utf8'), isBinary);
      for (const l of this.listeners) l(msg);
      for (let i = 0; i < this.waiters.length; i++) {
        const w = this.waiters[i];
        let matched: boolean;
        try {
          matched = w.predicate(msg);
        } catch (err) {
          // A predicate that throws (json() on a text push) fails its own wait, not the socket.
          this.waiters.splice(i--, 1);
          clearTimeout(w.timer);
          w.reject(this.scope.fail(err, `ws ${this.url}`));
          continue;
        }
        if (matched) {
          this.waiters.splice(i, 1);
          clearTimeout(w.timer);
          w.resolve(msg);
          return;
        }
      }
      if (this.inbox.length >= INBOX_MAX) {
        this.inbox.shift();
        rec.count('ws.inbox_dropped');
      }
      this.inbox.push(msg);
    });
    socket.on('close', () => this.onClosed(new LoadError('ECONNRESET', `ws ${url}: closed by the server`, false)));
    socket.on('error', (err) => this.onClosed(err));
  }

  get isOpen() {
    return this.socket.readyState === WebSocket.OPEN;
  }

  private onClosed(err: Error) {
    if (this.closed) return;
    this.closed = true;
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(this.scope.fail(err, `ws ${this.url}`));
    }
  }

  send(data: string | Buffer | object): void {
    if (!this.isOpen) throw this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws send ${this.url}`);
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    this.scope.runtime.recorder.bytes(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length, 0);
    this.lastSend = this.scope.begin();
    this.socket.send(payload);
  }

  waitFor(predicate: (msg: WsMessage) => boolean, options: WaitOptions = {}): Promise<WsMessage> {
    const metric = `ws.${options.name ?? 'reply'}`;
    const start = this.lastSend || this.scope.begin();
    this.lastSend = 0;
    for (let i = 0; i < this.inbox.length; i++) {
      let matched: boolean;
      try {
        matched = predicate(this.inbox[i]);
      } catch (err) {
        return Promise.reject(this.scope.fail(err, `ws ${metric}`));
      }
      if (matched) {
        const [msg] = this.inbox.splice(i, 1);
        this.scope.ok(metric, start);
        return Promise.resolve(msg);
      }
    }
    if (this.closed) return Promise.reject(this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws ${this.url}`));
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    return new Promise<WsMessage>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (msg) => {
          this.scope.ok(metric, start);
          resolve(msg);
        },
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(this.scope.fail(new LoadError('ETIMEDOUT', `no matching message within ${timeoutMs} ms`, false), `ws ${metric}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  request(data: string | Buffer | object, predicate: (msg: WsMessage) => boolean, options?: WaitOptions): Promise<WsMessage> {
    this.send(data);
    return this.waitFor(predicate, options);
  }

  ping(options: { timeout?: Duration } = {}): Promise<number> {
    if (!this.isOpen) return Promise.reject(this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws ping ${this.url}`));
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    const start = this.scope.begin();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('pong', onPong);
        reject(this.scope.fail(new LoadError('ETIMEDOUT', `no pong within ${timeoutMs} ms`, false), `ws ping ${this.url}`));
      }, timeoutMs);
      const onPong = () => {
        clearTimeout(timer);
        resolve(this.scope.ok('ws.ping', start));
      };
      this.socket.once('pong', onPong);
      this.socket.ping();
    });
  }

  onMessage(listener: (msg: WsMessage) => void): void {
    this.listeners.push(listener);
  }

  close(code = 1000, reason = ''): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.socket.terminate();
        done();
      }, 2000);
      this.socket.once('close', done);
      this.closed = true;
      this.scope.runtime.recorder.connectionClosed();
      this.scope.untrack(this);
      this.socket.close(code, reason);
    });
  }

  destroy(): void {
    if (!this.closed) {
      this.closed = true;
      this.scope.runtime.recorder.connectionClosed();
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new StopError());
      }
      this.waiters = [];
    }
    this.socket.terminate();
  }
}

export function createWsClient(scope: UserScope): WsClient {
  const rt = scope.runtime;
  return {
    connect(url?: string, options: WsConnectOptions = {}): Promise<WsConnection> {
      const href = url === undefined ? rt.target : new URL(url, rt.target).href;
      const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
      const start = scope.begin();
      return new Promise((resolve, reject) => {
        let socket: WebSocket;
        try {
          socket = new WebSocket(href, options.protocols, {
            headers: options.headers,
            perMessageDeflate: options.compress ?? false,
            localAddress: rt.sourceAddress(),
          });
        } catch (err) {
          return reject(scope.fail(Object.assign(err as Error, { code: 'EINVALIDURL' }), `ws connect ${href}`));
        }
        const timer = setTimeout(() => fail(new LoadError('ETIMEDOUT', `no handshake within ${timeoutMs} ms`, false)), timeoutMs);
        const fail = (err: Error) => {
          clearTimeout(timer);
          socket.removeAllListeners();
          socket.on('error', () => {});
          socket.terminate();
          reject(scope.fail(err, `ws connect ${href}`));
        };
        socket.once('error', fail);
        socket.once('unexpected-response', (_req, res) => {
          fail(new LoadError(`HTTP ${res.statusCode}`, `upgrade refused with status ${res.statusCode}`, false));
        });
        socket.once('open', () => {
          clearTimeout(timer);
          socket.off('error', fail);
          socket.removeAllListeners('unexpected-response');
          scope.ok('ws.connect', start);
          rt.recorder.connectionOpened();
          const conn = new Connection(socket, scope, href);
          scope.track(conn);
          resolve(conn);
        });
      });
    },
  };
}
