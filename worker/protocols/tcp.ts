import * as net from 'node:net';
import { parseDuration, type Duration } from '../scenario/duration';
import { ByteQueue } from './byte-queue';
import { LoadError, StopError } from './errors';
import type { UserScope } from '../engine/scope';

export interface TcpConnectOptions {
  /** Connect timeout. @default the scenario's http.timeout */
  timeout?: Duration;
  /** Disables Nagle's algorithm. @default true */
  noDelay?: boolean;
}

export interface ReadOptions {
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /** When given, the read is timed as `tcp.<name>` from the last write: one request/response exchange. */
  name?: string;
  /** Largest read accepted (readUntil). @default 1 MiB */
  maxBytes?: number;
}

/** A length-prefixed frame: header of `width` bytes holding the payload length. */
export interface LengthFrameOptions extends ReadOptions {
  /** @default 4 */
  width?: 1 | 2 | 4;
  /** @default 'big' */
  endian?: 'big' | 'little';
  /** True when the length counts the header too. @default false */
  includesHeader?: boolean;
}

/**
 * One TCP connection for sequential request/response protocols: one read at a time; bytes that
 * arrive before a read asks for them wait in a queue.
 */
export interface TcpConnection {
  write(data: Buffer | Uint8Array | string): void;
  /** Exactly `n` bytes. */
  readExact(n: number, options?: ReadOptions): Promise<Buffer>;
  /** Bytes up to a delimiter; the delimiter is consumed and not returned. */
  readUntil(delimiter: string | Buffer, options?: ReadOptions): Promise<Buffer>;
  /** One length-prefixed frame's payload. */
  readFrame(options?: LengthFrameOptions): Promise<Buffer>;
  close(): Promise<void>;
  readonly isOpen: boolean;
  readonly socket: net.Socket;
}

/** `u.tcp`: connections timed as `tcp.connect`, closed when the user ends. */
export interface TcpClient {
  connect(target?: string, options?: TcpConnectOptions): Promise<TcpConnection>;
}

const MAX_READ = 1024 * 1024;

interface PendingRead {
  /** Returns the bytes read when enough have arrived, or undefined to keep waiting; throws on bad input. */
  attempt: () => Buffer | undefined;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

class Connection implements TcpConnection {
  private queue = new ByteQueue();
  private pending: PendingRead | undefined;
  private closedWith: Error | undefined;
  private lastWrite = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly scope: UserScope,
    private readonly where: string,
  ) {
    const rec = scope.runtime.recorder;
    socket.on('data', (chunk: Buffer) => {
      rec.bytes(0, chunk.length);
      this.queue.push(chunk);
      this.pump();
    });
    socket.on('error', (err) => this.ended(err));
    socket.on('close', () => this.ended(new LoadError('ECONNRESET', 'closed by the server', false)));
  }

  get isOpen() {
    return this.closedWith === undefined;
  }

  private ended(err: Error) {
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
      return p.reject(err as Error);
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

  private read(what: string, options: ReadOptions, attempt: () => Buffer | undefined): Promise<Buffer> {
    if (this.pending) return Promise.reject(new LoadError('LF_TCP_CONCURRENT_READ', 'a read is already waiting on this connection: await it first', false));
    const name = options.name;
    const start = name ? this.lastWrite || this.scope.begin() : 0;
    if (name) this.lastWrite = 0;
    const timeoutMs = parseDuration(options.timeout) ?? this.scope.runtime.timeoutMs;
    const label = `tcp ${name ?? what} ${this.where}`;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = {
        attempt,
        resolve: (b) => {
          if (name) this.scope.ok(`tcp.${name}`, start);
          resolve(b);
        },
        reject: (err) => reject(this.scope.fail(err, label)),
        timer: setTimeout(() => {
          this.pending = undefined;
          reject(this.scope.fail(new LoadError('ETIMEDOUT', `${what}: nothing complete within ${timeoutMs} ms`, false), label));
        }, timeoutMs),
      };
      this.pump();
    });
  }

  readExact(n: number, options: ReadOptions = {}): Promise<Buffer> {
    return this.read(`read ${n} bytes`, options, () => (this.queue.length >= n ? this.queue.take(n) : undefined));
  }

  readUntil(delimiter: string | Buffer, options: ReadOptions = {}): Promise<Buffer> {
    const delim = typeof delimiter === 'string' ? Buffer.from(delimiter) : delimiter;
    const max = options.maxBytes ?? MAX_READ;
    return this.read('read until delimiter', options, () => {
      const at = this.queue.indexOf(delim);
      if (at < 0) {
        if (this.queue.length > max) throw new LoadError('LF_TCP_TOO_LARGE', `no delimiter within ${max} bytes`, false);
        return undefined;
      }
      const out = this.queue.take(at);
      this.queue.take(delim.length);
      return out;
    });
  }

  readFrame(options: LengthFrameOptions = {}): Promise<Buffer> {
    const width = options.width ?? 4;
    const big = (options.endian ?? 'big') === 'big';
    const max = options.maxBytes ?? MAX_READ;
    return this.read('read frame', options, () => {
      if (this.queue.length < width) return undefined;
      let len = 0;
      for (let i = 0; i < width; i++) len = len * 256 + this.queue.peek(big ? i : width - 1 - i);
      const payload = options.includesHeader ? len - width : len;
      if (payload < 0) throw new LoadError('EPROTO', `frame length ${len} is shorter than its ${width}-byte header`, false);
      if (payload > max) throw new LoadError('LF_TCP_TOO_LARGE', `frame of ${payload} bytes is over the limit of ${max}`, false);
      if (this.queue.length < width + payload) return undefined;
      this.queue.take(width);
      return this.queue.take(payload);
    });
  }

  close(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    this.closedWith = new LoadError('LF_CLOSED', 'the connection was closed by the user', false);
    this.scope.runtime.recorder.connectionClosed();
    this.scope.untrack(this);
    return new Promise((resolve) => this.socket.end(resolve));
  }

  destroy(): void {
    if (!this.closedWith) {
      this.closedWith = new StopError();
      this.scope.runtime.recorder.connectionClosed();
      this.pump();
    }
    this.socket.destroy();
  }
}

/** Parses `tcp://host:port` (or `host:port`) into connect options; throws a LoadError for anything else. */
export function parseTcpTarget(target: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(target.includes('://') ? target : `tcp://${target}`);
  } catch {
    throw new LoadError('EINVALIDURL', `not a tcp://host:port target: ${target}`, false);
  }
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LoadError('EINVALIDURL', `not a tcp://host:port target: ${target}`, false);
  }
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

export function createTcpClient(scope: UserScope): TcpClient {
  const rt = scope.runtime;
  return {
    connect(target?: string, options: TcpConnectOptions = {}): Promise<TcpConnection> {
      const where = target ?? rt.target;
      let host: string;
      let port: number;
      try {
        ({ host, port } = parseTcpTarget(where));
      } catch (err) {
        return Promise.reject(scope.fail(err, `tcp connect ${where}`));
      }
      const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
      const start = scope.begin();
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port, localAddress: rt.sourceAddress(), noDelay: options.noDelay ?? true });
        const timer = setTimeout(() => fail(new LoadError('ETIMEDOUT', `no connection within ${timeoutMs} ms`, false)), timeoutMs);
        function fail(err: Error) {
          clearTimeout(timer);
          socket.destroy();
          reject(scope.fail(err, `tcp connect ${where}`));
        }
        socket.once('error', fail);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.off('error', fail);
          scope.ok('tcp.connect', start);
          rt.recorder.connectionOpened();
          const conn = new Connection(socket, scope, where);
          scope.track(conn);
          resolve(conn);
        });
      });
    },
  };
}
