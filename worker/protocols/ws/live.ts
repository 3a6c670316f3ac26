import type WebSocket from 'ws';
import { onAbort } from '../../engine/abort';
import type { UserScope } from '../../engine/scope';
import { LoadError } from '../errors';
import { exponentialDelay, fullJitter } from '../reconnect';
import type { LiveConfig } from './config';
import { ignore, type OwnedSocket } from './socket';
import type { WsMessage, WsReconnectInfo } from './types';

/** Sends kept while reconnecting; one more fails with ENOBUFS. */
export const QUEUE_MAX = 1000;

const noop = () => {};

/** What liveness needs of the connection it keeps alive. */
export interface LiveHost {
  readonly scope: UserScope;
  readonly url: string;
  /** The current socket. */
  readonly socket: WebSocket;
  readonly isOpen: boolean;
  /** The current socket is gone (`clientClose`: close it with a close frame rather than cut it). */
  dropped(err: Error, clientClose?: boolean): void;
  /** Sends `payload` on the current socket, counted. */
  transmit(payload: string | Buffer): void;
  /** A reconnect opened `socket`: it becomes the current one, with the connection's listeners. */
  swapIn(socket: OwnedSocket): void;
  /** Reconnection gave up: closed for good, pending waits fail with `err` (counted already). */
  gaveUp(err: Error): void;
  destroy(): void;
}

interface Queued {
  payload: string | Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

function heartbeatReply(expect: (msg: WsMessage) => boolean, msg: WsMessage): boolean {
  try {
    return expect(msg) === true;
  } catch {
    return false; // documented: a heartbeat predicate that throws does not match
  }
}

/**
 * Heartbeat, random disconnects and reconnection of one connection (see `WsConnectOptions`).
 * Connections without them have none of it: no object, no closures, no timers. While open it
 * holds the heartbeat and disconnect timers; between a drop and the next open (`down`) the next
 * attempt's delay or its handshake, the sends queued meanwhile and one abort registration.
 */
export class Live {
  /** The heartbeat's timer while open; the next attempt's delay or its handshake while reconnecting. */
  timer: NodeJS.Timeout | undefined = undefined;
  disconnectTimer: NodeJS.Timeout | undefined = undefined;
  /** performance.now() when the unanswered heartbeat went out; 0 when none is outstanding. */
  beatSentAt = 0;
  /** Reconnecting: dropped and not open again yet. */
  down = false;
  droppedAt = 0;
  attempts = 0;
  lastError: unknown = undefined;
  /** The socket of the attempt in progress. */
  attempt: OwnedSocket | undefined = undefined;
  queue: Queued[] | undefined = undefined;
  reconnectListeners: ((info: WsReconnectInfo) => void)[] | undefined = undefined;
  /** Unregisters `abort` from the run's signal (set while reconnecting). */
  forgetAbort: (() => void) | undefined = undefined;
  readonly beat: () => void;
  /** The current socket's 'pong' listener (protocol-ping heartbeats). */
  readonly pong: () => void;
  private readonly disconnect: () => void;
  private readonly retry: () => void;
  private readonly abort: () => void;

  constructor(
    readonly config: LiveConfig,
    private readonly host: LiveHost,
  ) {
    this.beat = config.heartbeat ? () => this.onBeat() : noop;
    this.pong = config.heartbeat ? () => this.beatSentAt !== 0 && this.beatAnswered() : noop;
    this.disconnect = config.disconnectMeanMs !== undefined ? () => this.randomDisconnect() : noop;
    this.retry = config.reconnect ? () => this.attemptNow() : noop;
    this.abort = config.reconnect ? () => host.destroy() : noop;
  }

  get reconnects(): boolean {
    return this.config.reconnect !== undefined;
  }

  // -- heartbeat and random disconnects: only while open --------------------------------------

  startTimers(): void {
    const { heartbeat, disconnectMeanMs, random } = this.config;
    if (heartbeat !== undefined) this.timer = setTimeout(this.beat, heartbeat.intervalMs);
    if (disconnectMeanMs !== undefined) this.disconnectTimer = setTimeout(this.disconnect, exponentialDelay(disconnectMeanMs, random));
  }

  stopTimers(): void {
    clearTimeout(this.timer);
    clearTimeout(this.disconnectTimer);
    this.timer = this.disconnectTimer = undefined;
    this.beatSentAt = 0;
  }

  /** True when `msg` is the awaited reply of an app-level heartbeat (then it is the heartbeat's). */
  tookReply(msg: WsMessage): boolean {
    const expect = this.config.heartbeat?.expect;
    if (this.beatSentAt === 0 || expect === undefined || !heartbeatReply(expect, msg)) return false;
    this.beatAnswered();
    return true;
  }

  /** The heartbeat timer: sends the next heartbeat, or finds the last one unanswered. */
  private onBeat(): void {
    const hb = this.config.heartbeat!;
    const host = this.host;
    this.timer = undefined;
    if (this.beatSentAt !== 0) {
      this.beatSentAt = 0;
      const what = hb.message === undefined ? 'pong' : 'heartbeat reply';
      host.dropped(host.scope.fail(new LoadError('ETIMEDOUT', `no ${what} within ${hb.timeoutMs} ms`, false), `ws heartbeat ${host.url}`));
      return;
    }
    host.scope.runtime.recorder.count('ws.heartbeats');
    if (hb.message === undefined) host.socket.ping();
    else host.transmit(hb.message);
    if (hb.message === undefined || hb.expect !== undefined) {
      this.beatSentAt = performance.now();
      this.timer = setTimeout(this.beat, hb.timeoutMs);
    } else this.timer = setTimeout(this.beat, hb.intervalMs);
  }

  private beatAnswered(): void {
    const rtt = this.host.scope.ok('ws.heartbeat', this.beatSentAt);
    this.beatSentAt = 0;
    clearTimeout(this.timer);
    // The next heartbeat is due an interval after this one went out.
    this.timer = setTimeout(this.beat, Math.max(0, this.config.heartbeat!.intervalMs - rtt));
  }

  private randomDisconnect(): void {
    this.disconnectTimer = undefined;
    this.host.scope.runtime.recorder.count('ws.random_disconnects');
    this.host.dropped(new LoadError('ECONNABORTED', `ws ${this.host.url}: closed by randomDisconnect`, false), true);
  }

  // -- reconnection ---------------------------------------------------------------------------

  startReconnect(cause: Error): void {
    const rt = this.host.scope.runtime;
    this.down = true;
    this.droppedAt = performance.now();
    this.attempts = 0;
    this.lastError = cause;
    rt.recorder.connectionClosed();
    this.forgetAbort = onAbort(rt.signal, this.abort);
    this.scheduleAttempt();
  }

  private scheduleAttempt(): void {
    const policy = this.config.reconnect!;
    if (this.attempts >= policy.maxAttempts) return this.giveUp();
    this.timer = setTimeout(this.retry, fullJitter(this.attempts, policy, this.config.random));
  }

  private attemptNow(): void {
    const host = this.host;
    this.timer = undefined;
    if (host.scope.runtime.signal.aborted) return host.destroy();
    this.attempts++;
    host.scope.runtime.recorder.count('ws.reconnect_attempts');
    let socket: OwnedSocket;
    try {
      socket = this.config.dial();
    } catch (err) {
      this.lastError = err;
      return this.scheduleAttempt();
    }
    this.attempt = socket;
    // A failed attempt is not an error of its own: only giving up is.
    const failed = (err: Error) => {
      clearTimeout(this.timer);
      this.timer = this.attempt = undefined;
      socket.removeAllListeners();
      socket.on('error', ignore);
      socket.terminate();
      this.lastError = err;
      this.scheduleAttempt();
    };
    this.timer = setTimeout(() => failed(new LoadError('ETIMEDOUT', `no handshake within ${this.config.handshakeMs} ms`, false)), this.config.handshakeMs);
    socket.once('error', failed);
    socket.once('unexpected-response', (_req, res) => failed(new LoadError(`HTTP ${res.statusCode}`, `upgrade refused with status ${res.statusCode}`, false)));
    socket.once('open', () => {
      clearTimeout(this.timer);
      this.timer = this.attempt = undefined;
      socket.removeAllListeners();
      this.reopened(socket);
    });
  }

  private reopened(socket: OwnedSocket): void {
    const host = this.host;
    const rt = host.scope.runtime;
    this.down = false;
    this.forgetAbort?.();
    rt.recorder.connectionOpened();
    rt.recorder.count('ws.reconnects');
    const downtimeMs = host.scope.ok('ws.reconnect', this.droppedAt);
    host.swapIn(socket);
    this.startTimers();
    if (this.reconnectListeners !== undefined) {
      const info: WsReconnectInfo = { attempts: this.attempts, downtimeMs };
      for (const l of [...this.reconnectListeners]) {
        try {
          l(info);
        } catch (err) {
          // Nothing above a socket event can catch it: it is counted here, once.
          host.scope.fail(err, `ws onReconnect ${host.url}`);
        }
      }
    }
    const queue = this.queue;
    this.queue = undefined;
    if (queue === undefined) return;
    for (const q of queue) {
      if (host.isOpen) {
        host.transmit(q.payload);
        q.resolve();
      } else q.reject(host.scope.fail(new LoadError('ECONNRESET', 'the connection closed before the send went out', false), `ws send ${host.url}`));
    }
  }

  private giveUp(): void {
    const host = this.host;
    this.down = false;
    this.forgetAbort?.();
    host.scope.runtime.recorder.count('ws.reconnect_failed');
    // The gauge let go of this connection at the drop.
    const err = host.scope.fail(this.lastError, `ws reconnect ${host.url} (gave up after ${this.attempts} attempts)`);
    host.gaveUp(err);
    this.rejectQueue(err);
  }

  /** Ends everything this holds: timers, an attempt in progress, the abort listener, queued sends. */
  stop(queued: () => Error): void {
    this.stopTimers();
    const attempt = this.attempt;
    if (attempt !== undefined) {
      this.attempt = undefined;
      attempt.removeAllListeners();
      attempt.on('error', ignore);
      attempt.terminate();
    }
    if (this.down) {
      this.down = false;
      this.forgetAbort?.();
    }
    if (this.queue !== undefined) this.rejectQueue(queued());
  }

  private rejectQueue(err: Error): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue !== undefined) for (const q of queue) q.reject(err);
  }

  /** Queues a send until the connection is open again; throws ENOBUFS (counted) past QUEUE_MAX. */
  enqueue(payload: string | Buffer): Promise<void> {
    const queue = (this.queue ??= []);
    if (queue.length >= QUEUE_MAX) {
      throw this.host.scope.fail(new LoadError('ENOBUFS', `${QUEUE_MAX} sends already wait for the reconnect`, false), `ws send ${this.host.url}`);
    }
    let entry!: Queued;
    const sent = new Promise<void>((resolve, reject) => (entry = { payload, resolve, reject }));
    sent.catch(noop); // a caller that does not await it must not see an unhandled rejection
    queue.push(entry);
    return sent;
  }

  onReconnect(listener: (info: WsReconnectInfo) => void): void {
    (this.reconnectListeners ??= []).push(listener);
  }
}
