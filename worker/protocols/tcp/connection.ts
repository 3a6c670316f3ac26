import type * as net from 'node:net';
import { parseDuration, type Duration } from '../../scenario/duration';
import { LoadError, StopError } from '../errors';
import { delimited, FrameError, lengthPrefixed, StructError, type Framing, type Shape } from '../binary';
import type { UserScope } from '../../engine/scope';
import { Inbox } from './inbox';
import { compileProtocol, Session } from './session';
import type { FramedTcpConnection, FrameRequestOptions, LengthFrameOptions, ReadOptions, ReceiveOptions } from './types';
import type { MessageSpecs, SessionProtocol, TcpSession } from './session-types';


const MAX_READ = 1024 * 1024;

/** Framings for readFrame/readUntil options, made once per distinct set of options. */
const framingCache = new Map<string, Framing>();

function cachedFraming(key: string, make: () => Framing): Framing {
  let f = framingCache.get(key);
  if (f === undefined) {
    f = make();
    if (framingCache.size >= 256) framingCache.clear();
    framingCache.set(key, f);
  }
  return f;
}

/** A codec failure on received bytes, as the report's code. Anything else is returned as is. */
function wireError(err: unknown): unknown {
  if (err instanceof FrameError) {
    if (err.code === 'LF_FRAME_TOO_LARGE') return new LoadError('LF_TCP_TOO_LARGE', err.message, false, { cause: err });
    if (err.code === 'LF_FRAME_MALFORMED') return new LoadError('EPROTO', err.message, false, { cause: err });
  }
  if (err instanceof StructError) return new LoadError('EPROTO', err.message, false, { cause: err });
  return err;
}

interface PendingRead {
  /** Returns the bytes read when enough have arrived, or undefined to keep waiting; throws on bad input. */
  attempt: () => Buffer | undefined;
  resolve: (b: Buffer) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

interface Wait<T> {
  /** For messages: `tcp <what> <target>`. */
  what: string;
  timeout: Duration | undefined;
  attempt: () => Buffer | undefined;
  /**
   * Turns the bytes into the result, recording what the operation measured; a throw fails the
   * read (a codec error becomes EPROTO). `performance.now()` has not moved since the bytes came.
   */
  finish: (bytes: Buffer) => T;
}

/** What reads on a connection the user closed fail with; shared, so that a close costs no stack capture. */
const CLOSED_BY_USER = new LoadError('LF_CLOSED', 'the connection was closed by the user', false);
/** What reads on a connection destroyed at its user's end fail with (never counted); shared for the same reason. */
const STOPPED = new StopError();

/** The connection a socket belongs to, read by the shared listeners below (no closures per connection). */
const kConnection = Symbol('connection');
type OwnedSocket = net.Socket & { [kConnection]?: Connection };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection]?.received(chunk);
}

function onSocketError(this: OwnedSocket, err: Error): void {
  this[kConnection]?.ended(err);
}

function onSocketClose(this: OwnedSocket): void {
  this[kConnection]?.closedByPeer();
}

export class Connection implements FramedTcpConnection {
  /** Made on the first byte received: an idle connection holds none. */
  private _inbox: Inbox | undefined;
  private pending: PendingRead | undefined;
  private closedWith: Error | undefined;
  private lastWrite = 0;
  private readonly _framing: Framing | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly scope: UserScope,
    readonly where: string,
    framing: Framing | undefined,
  ) {
    this._framing = framing;
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  private get inbox(): Inbox {
    return (this._inbox ??= new Inbox());
  }

  /** @internal */
  received(chunk: Buffer): void {
    this.scope.runtime.recorder.bytes(0, chunk.length);
    this.inbox.push(chunk);
    this.pump();
  }

  /** @internal The error is made only when the close is news: a connection the user closed ends quietly. */
  closedByPeer(): void {
    if (this.closedWith === undefined) this.ended(new LoadError('ECONNRESET', 'closed by the server', false));
  }

  get isOpen() {
    return this.closedWith === undefined;
  }

  get framing(): Framing {
    if (this._framing === undefined) {
      throw new LoadError('LF_TCP_NO_FRAMING', `tcp ${this.where}: send/receive/request/session need a connection opened with { framing }`, false);
    }
    return this._framing;
  }

  /** @internal */
  ended(err: Error) {
    if (this.closedWith) return;
    this.closedWith = err;
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    this.pump();
  }

  private pump() {
    const p = this.pending;
    if (!p) return;
    let got: Buffer | undefined;
    try {
      got = p.attempt();
    } catch (err) {
      this.pending = undefined;
      clearTimeout(p.timer);
      return p.reject(err);
    }
    if (got !== undefined) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.resolve(got);
    } else if (this.closedWith) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(this.closedWith);
    }
  }

  write(data: Buffer | Uint8Array | string): void {
    if (this.closedWith) throw this.scope.fail(this.closedWith, `tcp write ${this.where}`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.scope.runtime.recorder.bytes(bytes.length, 0);
    this.lastWrite = this.scope.begin();
    this.socket.write(bytes);
  }

  /** Rejects (unrecorded, a scenario bug) when a read is already waiting. */
  private checkIdle(): void {
    if (this.pending) throw new LoadError('LF_TCP_CONCURRENT_READ', 'a read is already waiting on this connection: await it first', false);
  }

  /**
   * @internal Waits for `w.attempt` to produce bytes; every failure is recorded once, as
   * `tcp <what> <target>`.
   */
  wait<T>(w: Wait<T>): Promise<T> {
    try {
      this.checkIdle();
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = parseDuration(w.timeout) ?? this.scope.runtime.timeoutMs;
    const label = `tcp ${w.what} ${this.where}`;
    return new Promise<T>((resolve, reject) => {
      const fail = (err: unknown) => reject(this.scope.fail(wireError(err), label));
      this.pending = {
        attempt: w.attempt,
        resolve: (bytes) => {
          try {
            resolve(w.finish(bytes));
          } catch (err) {
            fail(err);
          }
        },
        reject: fail,
        timer: setTimeout(() => {
          this.pending = undefined;
          fail(new LoadError('ETIMEDOUT', `${w.what}: nothing complete within ${timeoutMs} ms`, false));
        }, timeoutMs),
      };
      this.pump();
    });
  }

  /**
   * A read; with a name it is an exchange timed from the last write: `finish` gets the bytes and
   * that start time, and records the timing.
   */
  private timedRead<T>(what: string, options: ReadOptions, attempt: () => Buffer | undefined, finish: (b: Buffer, start: number) => T): Promise<T> {
    const name = options.name;
    let start = 0;
    if (name && !this.pending) {
      start = this.lastWrite || this.scope.begin();
      this.lastWrite = 0;
    }
    return this.wait({ what: name ?? what, timeout: options.timeout, attempt, finish: (b) => finish(b, start) });
  }

  private read(what: string, options: ReadOptions, attempt: () => Buffer | undefined): Promise<Buffer> {
    const name = options.name;
    return this.timedRead(what, options, attempt, (b, start) => {
      if (name) this.scope.ok(`tcp.${name}`, start);
      return b;
    });
  }

  readExact(n: number, options: ReadOptions = {}): Promise<Buffer> {
    return this.read(`read ${n} bytes`, options, () => this.inbox.take(n));
  }

  readUntil(delimiter: string | Buffer, options: ReadOptions = {}): Promise<Buffer> {
    const delim = typeof delimiter === 'string' ? Buffer.from(delimiter) : delimiter;
    const max = options.maxBytes ?? MAX_READ;
    let framing: Framing;
    try {
      framing = cachedFraming(`until ${delim.toString('hex')} ${max}`, () => delimited({ delimiter: delim, maxFrameBytes: max }));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.read('read until delimiter', options, () => this.inbox.frame(framing));
  }

  readFrame(options: LengthFrameOptions = {}): Promise<Buffer> {
    const width = options.width ?? 4;
    const endian = options.endian ?? 'big';
    const includesHeader = options.includesHeader ?? false;
    const max = options.maxBytes ?? MAX_READ;
    let framing: Framing;
    try {
      framing = cachedFraming(`frame ${width} ${endian} ${includesHeader} ${max}`, () =>
        lengthPrefixed({ width, endian, includesHeader, maxFrameBytes: max }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return this.read('read frame', options, () => this.inbox.frame(framing));
  }

  // ---------------------------------------------------------------------------- framed

  send(payload: Uint8Array | string): void {
    const framing = this.framing;
    this.write(framing.encode(typeof payload === 'string' ? Buffer.from(payload) : payload));
  }

  receive(options: ReceiveOptions = {}): Promise<Buffer> {
    const name = options.name;
    return this.receiveWith(options, (frame, start) => {
      if (name) this.scope.ok(`tcp.${name}`, start);
      return frame;
    });
  }

  /** @internal The next frame, through `finish` (see timedRead). */
  receiveWith<T>(options: ReceiveOptions, finish: (frame: Buffer, start: number) => T): Promise<T> {
    let framing: Framing;
    try {
      framing = this.framing;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.timedRead('receive', options, () => this.inbox.frame(framing), finish);
  }

  /**
   * @internal Writes `payload()` as a frame and waits for the next frame; `finish` gets it with the write's
   * start time. Rejects without calling `payload` when a read is waiting or the connection is closed.
   */
  exchange<T>(what: string, payload: () => Uint8Array, timeout: Duration | undefined, finish: (frame: Buffer, start: number) => T): Promise<T> {
    let framing: Framing;
    let start: number;
    try {
      framing = this.framing;
      this.checkIdle();
      if (this.closedWith) throw this.scope.fail(this.closedWith, `tcp ${what} ${this.where}`);
      this.write(framing.encode(payload()));
      start = this.lastWrite;
      this.lastWrite = 0;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.wait({ what, timeout, attempt: () => this.inbox.frame(framing), finish: (frame) => finish(frame, start) });
  }

  request(payload: Uint8Array | string, options: FrameRequestOptions = {}): Promise<Buffer> {
    const name = options.name ?? 'request';
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return this.exchange(name, () => bytes, options.timeout, (reply, start) => {
      const refused = options.expect !== undefined && !options.expect(reply);
      this.scope.ok(`tcp.${name}`, start, 0, 0, refused ? 'unexpected response' : undefined);
      if (refused) throw this.unexpected('unexpected response', name, `a reply of ${reply.length} bytes that expect() refused`);
      return reply;
    });
  }

  /** @internal The error for an exchange already timed and counted as failed with `code` (scope.ok's failure). */
  unexpected(code: string, name: string, detail: string): LoadError {
    return new LoadError(code, `tcp ${name} ${this.where}: ${code} (${detail})`, true);
  }

  session<H extends Shape, M extends MessageSpecs>(protocol: SessionProtocol<H, M>): TcpSession<H, M> {
    return new Session(this, compileProtocol(protocol)) as unknown as TcpSession<H, M>;
  }

  close(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    this.closedWith = CLOSED_BY_USER;
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    return new Promise((resolve) => this.socket.end(resolve));
  }

  destroy(): void {
    if (!this.closedWith) {
      this.closedWith = STOPPED;
      this.scope.runtime.recorder.connectionClosed();
      this.pump();
    }
    this.socket.destroy();
  }
}

