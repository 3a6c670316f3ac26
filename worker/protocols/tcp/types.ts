import type * as net from 'node:net';
import type { Duration } from '../../scenario/duration';
import type { Framing, Shape } from '../binary';
import type { SessionProtocol, MessageSpecs, TcpSession } from './session-types';

/*
 * Error codes of this client, besides the system ones (ECONNREFUSED, ECONNRESET, ETIMEDOUT):
 * - EPROTO                  the server broke the protocol: a frame header that cannot be right,
 *                           a message that does not decode, a reply with another sequence number
 *                           or an unknown message type.
 * - LF_TCP_TOO_LARGE        a frame (or a readUntil) over the read's size limit.
 * - unexpected response[ K] a reply that `expect` did not allow (the exchange is timed too).
 * - LF_TCP_CONCURRENT_READ  a read while another waits (a scenario bug; not counted by the client).
 */

export interface TcpConnectOptions {
  /** Connect timeout. @default the scenario's http.timeout */
  timeout?: Duration;
  /** Disables Nagle's algorithm. @default true */
  noDelay?: boolean;
  /**
   * How messages are delimited on the stream: `lengthPrefixed({ … })` or `delimited({ … })`.
   * With it the connection also has `send`, `receive`, `request` and `session`.
   */
  framing?: Framing;
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

export interface ReceiveOptions {
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /** When given, the receive is timed as `tcp.<name>` from the last write or send. */
  name?: string;
}

export interface FrameRequestOptions {
  /** Metric `tcp.<name>`. @default 'request' */
  name?: string;
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /**
   * Says whether the reply is the one expected. When it is not, the exchange is still timed,
   * the error `unexpected response` is counted once, and the request rejects with it.
   */
  expect?: (reply: Buffer) => boolean;
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

/**
 * A connection opened with `{ framing }`: messages in and out are whole frames. Raw reads
 * (`readExact`, …) still work and see the bytes after the last frame received.
 */
export interface FramedTcpConnection extends TcpConnection {
  readonly framing: Framing;
  /** Writes `payload` as one frame (header or delimiter added). */
  send(payload: Uint8Array | string): void;
  /** The next frame's payload. */
  receive(options?: ReceiveOptions): Promise<Buffer>;
  /** `send` then `receive`, timed as one exchange from the write to the whole reply frame, as `tcp.<name>`. */
  request(payload: Uint8Array | string, options?: FrameRequestOptions): Promise<Buffer>;
  /**
   * Typed messages with a header struct: sequence numbers and header state (a session id) kept
   * for this connection. One session per connection.
   */
  session<H extends Shape, M extends MessageSpecs>(protocol: SessionProtocol<H, M>): TcpSession<H, M>;
}

/** `u.tcp`: connections timed as `tcp.connect`, closed when the user ends. */
export interface TcpClient {
  connect(target: string | undefined, options: TcpConnectOptions & { framing: Framing }): Promise<FramedTcpConnection>;
  connect(target?: string, options?: TcpConnectOptions): Promise<TcpConnection>;
}

