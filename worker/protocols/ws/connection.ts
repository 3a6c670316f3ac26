import WebSocket from 'ws';
import { parseDuration, type Duration } from '../../scenario/duration';
import { onAbort } from '../../engine/abort';
import { LoadError, StopError } from '../errors';
import { exponentialDelay, fullJitter } from '../reconnect';
import type { UserScope } from '../../engine/scope';
import type { LiveConfig } from './config';
import { Message, payloadOf } from './message';
import { waitMetric } from './names';
import { onSocketClose, onSocketError, onSocketMessage, type OwnedSocket, type SocketOwner } from './socket';
import { Waiter, type WaiterOwner } from './waiter';
import { arm, disarm } from '../deadlines';
import type { WaitOptions, WsConnection, WsMessage, WsReconnectInfo } from './types';

const INBOX_MAX = 1000;
/** Sends kept while reconnecting; one more fails with ENOBUFS. */
const QUEUE_MAX = 1000;
/** What `send` returns when the message went out at once. */
const SENT: Promise<void> = Promise.resolve();
const noop = () => {};

interface Queued {
  payload: string | Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The state of a connection with heartbeat, random disconnects or reconnect; connections
 * without them have none of it (no object, no closures, no timers).
 */
interface Live {
  readonly config: LiveConfig;
  /** The heartbeat's timer while open; the next attempt's delay or its handshake while reconnecting. */
  timer: NodeJS.Timeout | undefined;
  disconnectTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the unanswered heartbeat went out; 0 when none is outstanding. */
  beatSentAt: number;
  /** Reconnecting: dropped and not open again yet. */
  down: boolean;
  droppedAt: number;
  attempts: number;
  lastError: unknown;
  /** The socket of the attempt in progress. */
  attempt: OwnedSocket | undefined;
  queue: Queued[] | undefined;
  reconnectListeners: ((info: WsReconnectInfo) => void)[] | undefined;
  readonly beat: () => void;
  readonly pong: () => void;
  readonly disconnect: () => void;
  readonly retry: () => void;
  readonly abort: () => void;
  /** Unregisters `abort` from the run's signal (set while reconnecting). */
  forgetAbort: (() => void) | undefined;
}

/**
 * Empty until first used: an idle connection shares these (never written: the first push
 * replaces them with an array of its own).
 */
const NO_MESSAGES: readonly Message[] = Object.freeze([]) as readonly Message[];
const NO_WAITERS: readonly Waiter[] = Object.freeze([]) as readonly Waiter[];
const NO_LISTENERS: readonly ((msg: WsMessage) => void)[] = Object.freeze([]) as readonly ((msg: WsMessage) => void)[];

export class Connection implements WsConnection, SocketOwner, WaiterOwner {
  private inbox = NO_MESSAGES as Message[];
  private waiters = NO_WAITERS as Waiter[];
  private listeners = NO_LISTENERS as ((msg: WsMessage) => void)[];
  private lastSend = 0;
  private closed = false;
  private readonly live: Live | undefined;

  constructor(
    private current: OwnedSocket,
    private readonly scope: UserScope,
    private readonly url: string,
    config?: LiveConfig,
  ) {
    if (config !== undefined) this.live = this.makeLive(config);
    this.attach(current);
    if (this.live !== undefined) this.startTimers(this.live);
  }

  get socket(): WebSocket {
    return this.current;
  }

  get isOpen() {
    return this.current.readyState === WebSocket.OPEN;
  }

  get isReconnecting() {
    return this.live?.down === true;
  }

  private makeLive(config: LiveConfig): Live {
    const live: Live = {
      config,
      timer: undefined,
      disconnectTimer: undefined,
      beatSentAt: 0,
      down: false,
      droppedAt: 0,
      attempts: 0,
      lastError: undefined,
      attempt: undefined,
      queue: undefined,
      reconnectListeners: undefined,
      beat: config.heartbeat ? () => this.beat(live) : noop,
      pong: config.heartbeat ? () => live.beatSentAt !== 0 && this.beatAnswered(live) : noop,
      disconnect: config.disconnectMeanMs !== undefined ? () => this.randomDisconnect(live) : noop,
      retry: config.reconnect ? () => this.attempt(live) : noop,
      abort: config.reconnect ? () => this.destroy() : noop,
      forgetAbort: undefined,
    };
    return live;
  }

  private attach(socket: OwnedSocket) {
    socket.owner = this;
    socket.on('message', onSocketMessage);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    const hb = this.live?.config.heartbeat;
    if (hb !== undefined && hb.message === undefined) socket.on('pong', this.live!.pong);
  }

  /** @internal */
  closedByServer() {
    this.dropped(new LoadError('ECONNRESET', `ws ${this.url}: closed by the server`, false));
  }

  /** @internal */
  received(raw: Buffer, isBinary: boolean) {
    const rec = this.scope.runtime.recorder;
    rec.bytes(0, raw.length);
    rec.count('ws.messages.received');
    const msg = new Message(raw, isBinary);
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](msg);
    const live = this.live;
    if (live !== undefined && live.beatSentAt !== 0 && live.config.heartbeat?.expect !== undefined && heartbeatReply(live.config.heartbeat.expect, msg)) {
      this.beatAnswered(live);
      return;
    }
    const waiters = this.waiters;
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      let matched: boolean;
      try {
        matched = w.predicate(msg);
      } catch (err) {
        // A predicate that throws (json() on a text push) fails its own wait, not the socket.
        waiters.splice(i--, 1);
        disarm(w);
        w.reject(this.scope.fail(err, `ws ${this.url}`));
        continue;
      }
      if (matched) {
        if (i === waiters.length - 1) waiters.pop();
        else waiters.splice(i, 1);
        disarm(w);
        this.scope.ok(w.metric, w.start);
        w.resolve(msg);
        return;
      }
    }
    if (this.inbox.length >= INBOX_MAX) {
      this.inbox.shift();
      this.scope.runtime.recorder.count('ws.inbox_dropped');
    }
    if (this.inbox === NO_MESSAGES) this.inbox = [];
    this.inbox.push(msg.keep());
  }

  /** @internal A wait's deadline passed. */
  timedOut(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i !== -1) this.waiters.splice(i, 1);
    w.reject(this.scope.fail(new LoadError('ETIMEDOUT', `no matching message within ${w.timeoutMs} ms`, false), `ws ${w.metric}`));
  }

  /**
   * The current socket is gone (`clientClose`: the client closes it with a close frame). With
   * `reconnect` the connection comes back; otherwise it is closed for good.
   */
  /** @internal */
  dropped(err: Error, clientClose = false) {
    const live = this.live;
    if (live === undefined) return this.closedFor(err);
    if (this.closed || live.down) return;
    this.stopTimers(live);
    const old = this.current;
    old.removeAllListeners();
    old.on('error', noop);
    if (clientClose) old.close(1000, 'random disconnect');
    else old.terminate();
    if (live.config.reconnect !== undefined && !this.scope.runtime.signal.aborted) this.startReconnect(live, err);
    else this.closedFor(err);
  }

  /** Closed for good by a failure: pending waits fail with `err` (each counted unless it already is). */
  private closedFor(err: Error) {
    if (this.closed) return;
    this.closed = true;
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    const waiters = this.waiters;
    this.waiters = NO_WAITERS as Waiter[];
    for (const w of waiters) {
      disarm(w);
      w.reject(this.scope.fail(err, `ws ${this.url}`));
    }
  }

  // -- heartbeat and random disconnects: only while open --------------------------------------

  private startTimers(live: Live) {
    const { heartbeat, disconnectMeanMs, random } = live.config;
    if (heartbeat !== undefined) live.timer = setTimeout(live.beat, heartbeat.intervalMs);
    if (disconnectMeanMs !== undefined) live.disconnectTimer = setTimeout(live.disconnect, exponentialDelay(disconnectMeanMs, random));
  }

  private stopTimers(live: Live) {
    clearTimeout(live.timer);
    clearTimeout(live.disconnectTimer);
    live.timer = live.disconnectTimer = undefined;
    live.beatSentAt = 0;
  }

  /** The heartbeat timer: sends the next heartbeat, or finds the last one unanswered. */
  private beat(live: Live) {
    const hb = live.config.heartbeat!;
    live.timer = undefined;
    if (live.beatSentAt !== 0) {
      live.beatSentAt = 0;
      const what = hb.message === undefined ? 'pong' : 'heartbeat reply';
      this.dropped(this.scope.fail(new LoadError('ETIMEDOUT', `no ${what} within ${hb.timeoutMs} ms`, false), `ws heartbeat ${this.url}`));
      return;
    }
    this.scope.runtime.recorder.count('ws.heartbeats');
    if (hb.message === undefined) this.current.ping();
    else this.transmit(hb.message);
    if (hb.message === undefined || hb.expect !== undefined) {
      live.beatSentAt = performance.now();
      live.timer = setTimeout(live.beat, hb.timeoutMs);
    } else live.timer = setTimeout(live.beat, hb.intervalMs);
  }

  private beatAnswered(live: Live) {
    const rtt = this.scope.ok('ws.heartbeat', live.beatSentAt);
    live.beatSentAt = 0;
    clearTimeout(live.timer);
    // The next heartbeat is due an interval after this one went out.
    live.timer = setTimeout(live.beat, Math.max(0, live.config.heartbeat!.intervalMs - rtt));
  }

  private randomDisconnect(live: Live) {
    live.disconnectTimer = undefined;
    this.scope.runtime.recorder.count('ws.random_disconnects');
    this.dropped(new LoadError('ECONNABORTED', `ws ${this.url}: closed by randomDisconnect`, false), true);
  }

  // -- reconnection ---------------------------------------------------------------------------

  private startReconnect(live: Live, cause: Error) {
    live.down = true;
    live.droppedAt = performance.now();
    live.attempts = 0;
    live.lastError = cause;
    this.scope.runtime.recorder.connectionClosed();
    live.forgetAbort = onAbort(this.scope.runtime.signal, live.abort);
    this.scheduleAttempt(live);
  }

  private scheduleAttempt(live: Live) {
    const policy = live.config.reconnect!;
    if (live.attempts >= policy.maxAttempts) return this.giveUp(live);
    live.timer = setTimeout(live.retry, fullJitter(live.attempts, policy, live.config.random));
  }

  private attempt(live: Live) {
    live.timer = undefined;
    if (this.scope.runtime.signal.aborted) return this.destroy();
    live.attempts++;
    this.scope.runtime.recorder.count('ws.reconnect_attempts');
    let socket: OwnedSocket;
    try {
      socket = live.config.dial();
    } catch (err) {
      live.lastError = err;
      return this.scheduleAttempt(live);
    }
    live.attempt = socket;
    // A failed attempt is not an error of its own: only giving up is.
    const failed = (err: Error) => {
      clearTimeout(live.timer);
      live.timer = live.attempt = undefined;
      socket.removeAllListeners();
      socket.on('error', noop);
      socket.terminate();
      live.lastError = err;
      this.scheduleAttempt(live);
    };
    live.timer = setTimeout(() => failed(new LoadError('ETIMEDOUT', `no handshake within ${live.config.handshakeMs} ms`, false)), live.config.handshakeMs);
    socket.once('error', failed);
    socket.once('unexpected-response', (_req, res) => failed(new LoadError(`HTTP ${res.statusCode}`, `upgrade refused with status ${res.statusCode}`, false)));
    socket.once('open', () => {
      clearTimeout(live.timer);
      live.timer = live.attempt = undefined;
      socket.removeAllListeners();
      this.reopened(live, socket);
    });
  }

  private reopened(live: Live, socket: OwnedSocket) {
    const rt = this.scope.runtime;
    this.current = socket;
    live.down = false;
    live.forgetAbort?.();
    rt.recorder.connectionOpened();
    rt.recorder.count('ws.reconnects');
    const downtimeMs = this.scope.ok('ws.reconnect', live.droppedAt);
    this.attach(socket);
    this.startTimers(live);
    if (live.reconnectListeners !== undefined) {
      const info: WsReconnectInfo = { attempts: live.attempts, downtimeMs };
      for (const l of [...live.reconnectListeners]) {
        try {
          l(info);
        } catch (err) {
          // Nothing above a socket event can catch it: it is counted here, once.
          this.scope.fail(err, `ws onReconnect ${this.url}`);
        }
      }
    }
    const queue = live.queue;
    live.queue = undefined;
    if (queue === undefined) return;
    for (const q of queue) {
      if (this.isOpen) {
        this.transmit(q.payload);
        q.resolve();
      } else q.reject(this.scope.fail(new LoadError('ECONNRESET', 'the connection closed before the send went out', false), `ws send ${this.url}`));
    }
  }

  private giveUp(live: Live) {
    live.down = false;
    live.forgetAbort?.();
    this.scope.runtime.recorder.count('ws.reconnect_failed');
    // The gauge let go of this connection at the drop.
    const err = this.scope.fail(live.lastError, `ws reconnect ${this.url} (gave up after ${live.attempts} attempts)`);
    this.closed = true;
    this.scope.untrack(this);
    const waiters = this.waiters;
    this.waiters = NO_WAITERS as Waiter[];
    for (const w of waiters) {
      disarm(w);
      w.reject(err);
    }
    this.rejectQueue(live, err);
  }

  /** Ends everything `live` holds: timers, an attempt in progress, the abort listener, queued sends. */
  private stopLive(live: Live, queued: () => Error) {
    this.stopTimers(live);
    const attempt = live.attempt;
    if (attempt !== undefined) {
      live.attempt = undefined;
      attempt.removeAllListeners();
      attempt.on('error', noop);
      attempt.terminate();
    }
    if (live.down) {
      live.down = false;
      live.forgetAbort?.();
    }
    if (live.queue !== undefined) this.rejectQueue(live, queued());
  }

  private rejectQueue(live: Live, err: Error) {
    const queue = live.queue;
    live.queue = undefined;
    if (queue !== undefined) for (const q of queue) q.reject(err);
  }

  private enqueue(live: Live, payload: string | Buffer): Promise<void> {
    const queue = (live.queue ??= []);
    if (queue.length >= QUEUE_MAX) {
      throw this.scope.fail(new LoadError('ENOBUFS', `${QUEUE_MAX} sends already wait for the reconnect`, false), `ws send ${this.url}`);
    }
    this.lastSend = this.scope.begin();
    let entry!: Queued;
    const sent = new Promise<void>((resolve, reject) => (entry = { payload, resolve, reject }));
    sent.catch(noop); // a caller that does not await it must not see an unhandled rejection
    queue.push(entry);
    return sent;
  }

  // -- the scenario's API ---------------------------------------------------------------------

  private transmit(payload: string | Buffer) {
    const rec = this.scope.runtime.recorder;
    rec.bytes(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length, 0);
    rec.count('ws.messages.sent');
    this.current.send(payload);
  }

  send(data: string | Buffer | object): Promise<void> {
    const live = this.live;
    // Closing (a close frame in, the drop not seen yet) counts as reconnecting when it will.
    if (live?.config.reconnect !== undefined && !this.closed && (live.down || !this.isOpen)) return this.enqueue(live, payloadOf(data));
    if (!this.isOpen) throw this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws send ${this.url}`);
    const payload = payloadOf(data);
    this.lastSend = this.scope.begin();
    this.transmit(payload);
    return SENT;
  }

  waitFor(predicate: (msg: WsMessage) => boolean, options?: WaitOptions): Promise<WsMessage> {
    const metric = waitMetric(options?.name);
    const start = this.lastSend || this.scope.begin();
    this.lastSend = 0;
    const inbox = this.inbox;
    for (let i = 0; i < inbox.length; i++) {
      let matched: boolean;
      try {
        matched = predicate(inbox[i]);
      } catch (err) {
        return Promise.reject(this.scope.fail(err, `ws ${metric}`));
      }
      if (matched) {
        const msg = inbox[i];
        if (i === 0) inbox.shift();
        else inbox.splice(i, 1);
        this.scope.ok(metric, start);
        return Promise.resolve(msg);
      }
    }
    if (this.closed) return Promise.reject(this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws ${this.url}`));
    const timeout = options?.timeout;
    const timeoutMs = timeout === undefined ? this.scope.runtime.timeoutMs : (parseDuration(timeout) ?? this.scope.runtime.timeoutMs);
    const waiter = new Waiter(this, predicate, metric, start, timeoutMs);
    const promise = new Promise<WsMessage>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    if (this.waiters === NO_WAITERS) this.waiters = [waiter];
    else this.waiters.push(waiter);
    arm(waiter, timeoutMs);
    return promise;
  }

  request(data: string | Buffer | object, predicate: (msg: WsMessage) => boolean, options?: WaitOptions): Promise<WsMessage> {
    void this.send(data);
    return this.waitFor(predicate, options);
  }

  ping(options: { timeout?: Duration } = {}): Promise<number> {
    if (!this.isOpen) return Promise.reject(this.scope.fail(new LoadError('ECONNRESET', 'the connection is closed', false), `ws ping ${this.url}`));
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    const start = this.scope.begin();
    const socket = this.current;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('pong', onPong);
        reject(this.scope.fail(new LoadError('ETIMEDOUT', `no pong within ${timeoutMs} ms`, false), `ws ping ${this.url}`));
      }, timeoutMs);
      const onPong = () => {
        clearTimeout(timer);
        resolve(this.scope.ok('ws.ping', start));
      };
      socket.once('pong', onPong);
      socket.ping();
    });
  }

  onMessage(listener: (msg: WsMessage) => void): void {
    if (this.listeners === NO_LISTENERS) this.listeners = [];
    this.listeners.push(listener);
  }

  onReconnect(listener: (info: WsReconnectInfo) => void): void {
    const live = this.live;
    if (live?.config.reconnect !== undefined) (live.reconnectListeners ??= []).push(listener);
  }

  close(code = 1000, reason = ''): Promise<void> {
    if (this.closed) return Promise.resolve();
    const live = this.live;
    if (live !== undefined) {
      const wasDown = live.down;
      this.stopLive(live, () => this.scope.fail(new LoadError('ECONNRESET', 'the connection was closed before the send went out', false), `ws send ${this.url}`));
      if (wasDown) {
        // Nothing open to close: the gauge let go of it at the drop.
        this.closed = true;
        this.scope.untrack(this);
        return Promise.resolve();
      }
    }
    const socket = this.current;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        socket.terminate();
        done();
      }, 2000);
      socket.once('close', done);
      this.closed = true;
      this.scope.runtime.recorder.connectionClosed();
      this.scope.untrack(this);
      socket.close(code, reason);
    });
  }

  destroy(): void {
    const live = this.live;
    if (!this.closed) {
      this.closed = true;
      if (live === undefined || !live.down) this.scope.runtime.recorder.connectionClosed();
      // A wait in flight when the run cuts its user counts as CUT_IN_FLIGHT; at a user's own end, nothing.
      for (const w of this.waiters) {
        disarm(w);
        w.reject(this.scope.abandon(`ws ${this.url}`));
      }
      this.waiters = NO_WAITERS as Waiter[];
    }
    if (live !== undefined) this.stopLive(live, () => new StopError());
    this.current.terminate();
  }
}

function heartbeatReply(expect: (msg: WsMessage) => boolean, msg: WsMessage): boolean {
  try {
    return expect(msg) === true;
  } catch {
    return false; // documented: a heartbeat predicate that throws does not match
  }
}

