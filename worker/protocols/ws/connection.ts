import WebSocket from 'ws';
import { parseDuration, type Duration } from '../../scenario/duration';
import { LoadError, StopError } from '../errors';
import type { UserScope } from '../../engine/scope';
import type { LiveConfig } from './config';
import { Message, payloadOf } from './message';
import { waitMetric } from './names';
import { Live, type LiveHost } from './live';
import { ignore, onSocketClose, onSocketError, onSocketMessage, type OwnedSocket, type SocketOwner } from './socket';
import { Waiter, type WaiterOwner } from './waiter';
import { arm, disarm } from '../deadlines';
import type { WaitOptions, WsConnection, WsMessage, WsReconnectInfo } from './types';

const INBOX_MAX = 1000;
/** What `send` returns when the message went out at once. */
const SENT: Promise<void> = Promise.resolve();

/**
 * Empty until first used: an idle connection shares these (never written: the first push
 * replaces them with an array of its own).
 */
const NO_MESSAGES: readonly Message[] = Object.freeze([]) as readonly Message[];
const NO_WAITERS: readonly Waiter[] = Object.freeze([]) as readonly Waiter[];
const NO_LISTENERS: readonly ((msg: WsMessage) => void)[] = Object.freeze([]) as readonly ((msg: WsMessage) => void)[];

/**
 * One WebSocket connection (the contract is `WsConnection`'s): the current socket, the messages
 * not yet claimed, the pending waits on the deadline list, and with heartbeat, random disconnects
 * or reconnect its `Live` state. An idle connection without them holds this object and its
 * socket's three shared listeners, nothing else.
 */
export class Connection implements WsConnection, SocketOwner, WaiterOwner, LiveHost {
  private inbox = NO_MESSAGES as Message[];
  private waiters = NO_WAITERS as Waiter[];
  private listeners = NO_LISTENERS as ((msg: WsMessage) => void)[];
  private lastSend = 0;
  private closed = false;
  private readonly live: Live | undefined;

  constructor(
    private current: OwnedSocket,
    /** @internal */ readonly scope: UserScope,
    /** @internal */ readonly url: string,
    config?: LiveConfig,
  ) {
    if (config !== undefined) this.live = new Live(config, this);
    this.attach(current);
    this.live?.startTimers();
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
    if (live !== undefined && live.tookReply(msg)) return;
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
    live.stopTimers();
    const old = this.current;
    old.owner = undefined;
    old.removeAllListeners();
    old.on('error', ignore);
    if (clientClose) old.close(1000, 'random disconnect');
    else old.terminate();
    if (live.reconnects && !this.scope.runtime.signal.aborted) live.startReconnect(err);
    else this.closedFor(err);
  }

  /** @internal A reconnect opened `socket`. */
  swapIn(socket: OwnedSocket): void {
    this.current = socket;
    this.attach(socket);
  }

  /** @internal Reconnection gave up: the gauge let go of this connection at the drop. */
  gaveUp(err: Error): void {
    this.closed = true;
    this.scope.untrack(this);
    const waiters = this.waiters;
    this.waiters = NO_WAITERS as Waiter[];
    for (const w of waiters) {
      disarm(w);
      w.reject(err);
    }
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

  // -- the scenario's API ---------------------------------------------------------------------

  /** @internal */
  transmit(payload: string | Buffer) {
    const rec = this.scope.runtime.recorder;
    rec.bytes(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length, 0);
    rec.count('ws.messages.sent');
    this.current.send(payload);
  }

  send(data: string | Buffer | object): Promise<void> {
    const live = this.live;
    // Closing (a close frame in, the drop not seen yet) counts as reconnecting when it will.
    if (live?.reconnects === true && !this.closed && (live.down || !this.isOpen)) {
      const queued = live.enqueue(payloadOf(data));
      this.lastSend = this.scope.begin();
      return queued;
    }
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
    if (live?.reconnects === true) live.onReconnect(listener);
  }

  close(code = 1000, reason = ''): Promise<void> {
    if (this.closed) return Promise.resolve();
    const live = this.live;
    if (live !== undefined) {
      const wasDown = live.down;
      live.stop(() => this.scope.fail(new LoadError('ECONNRESET', 'the connection was closed before the send went out', false), `ws send ${this.url}`));
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
    if (live !== undefined) live.stop(() => new StopError());
    this.current.terminate();
  }
}

