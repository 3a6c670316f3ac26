import * as net from 'node:net';
import { parseDuration, type Duration } from '../scenario/duration';
import { ByteQueue } from './byte-queue';
import { LoadError, StopError } from './errors';
import {
  delimited,
  FrameError,
  lengthPrefixed,
  StructError,
  type Decoded,
  type Encodable,
  type FrameReader,
  type Framing,
  type Infer,
  type Shape,
  type Struct,
} from './binary';
import type { UserScope } from '../engine/scope';

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

// ------------------------------------------------------------------------------ sessions (types)

/** One message of a protocol: its type code, and its body's layout (no body: an empty body). */
export interface MessageSpec {
  readonly type: number;
  readonly body?: Struct<any>;
}

export type MessageSpecs = { readonly [kind: string]: MessageSpec };

/** The header fields that hold a number (candidates for the type and sequence fields). */
export type NumberFields<H extends Shape> = { [K in keyof H]: Infer<H[K]> extends number ? K : never }[keyof H] & string;

/**
 * A protocol whose frames' payloads are `[header][body]`: the header struct carries the message
 * type and a sequence number; the body's layout depends on the type.
 *
 *   conn.session({
 *     header: struct({ type: u8, seq: u32, session: u32 }, { endian: 'big' }),
 *     typeField: 'type',
 *     seqField: 'seq',
 *     messages: { LOGIN: { type: 1, body: Login }, LOGIN_OK: { type: 2, body: LoginOk }, … },
 *     state: { session: 0 },
 *   });
 */
export interface SessionProtocol<H extends Shape, M extends MessageSpecs> {
  header: Struct<H>;
  /** The header field holding the message type: set from `messages[kind].type` on send. */
  typeField: NumberFields<H>;
  /** The header field holding the sequence number: set on send, checked on the reply. */
  seqField: NumberFields<H>;
  /** Message kinds by name; each type code names one kind. */
  messages: M;
  /**
   * Values of the other header fields (e.g. `{ session: 0 }`), written into every message sent
   * until `session.set` changes them.
   */
  state?: Partial<Encodable<H>>;
  /** The first sequence number; it then goes up by one per message sent. @default 1 */
  firstSeq?: number;
  /** The sequence number after `maxSeq` is `firstSeq` again. @default 0xffffffff */
  maxSeq?: number;
}

export type MessageKind<M extends MessageSpecs> = keyof M & string;

/** What `request` / `send` take as a kind's body: its struct's fields, or nothing. */
export type BodyInput<S extends MessageSpec> = S extends { body: Struct<infer B> } ? Encodable<B> : Record<string, never> | undefined;
/** A decoded body. */
export type BodyOutput<S extends MessageSpec> = S extends { body: Struct<infer B> } ? Decoded<B> : Record<string, never>;

/** A message received, discriminated on `kind`. */
export type SessionMessage<H extends Shape, M extends MessageSpecs, K extends MessageKind<M> = MessageKind<M>> = {
  [P in K]: { kind: P; type: number; header: Decoded<H>; body: BodyOutput<M[P]> };
}[K];

export interface SessionSendOptions<H extends Shape> {
  /** Header fields for this message only (type and sequence are the session's). */
  header?: Partial<Encodable<H>>;
}

export interface SessionReceiveOptions<K extends string> {
  /** Metric `tcp.<name>`. For `request` @default the request's kind */
  name?: string;
  /** @default the scenario's http.timeout */
  timeout?: Duration;
  /**
   * The kinds of reply expected. Another kind is still timed, counts the error
   * `unexpected response <KIND>` once, and rejects. The reply's type is narrowed to these kinds.
   */
  expect?: K | readonly K[];
}

export interface SessionRequestOptions<H extends Shape, K extends string> extends SessionSendOptions<H>, SessionReceiveOptions<K> {}

export interface TcpSession<H extends Shape, M extends MessageSpecs> {
  /**
   * Sends a message and waits for the reply, which must carry the same sequence number: one
   * exchange, timed from the write to the whole reply frame as `tcp.<name>`.
   */
  request<K extends MessageKind<M>, E extends MessageKind<M> = MessageKind<M>>(
    kind: K,
    body: BodyInput<M[K]>,
    options?: SessionRequestOptions<H, E>,
  ): Promise<SessionMessage<H, M, E>>;
  /** Sends a message that gets no reply; returns its sequence number. */
  send<K extends MessageKind<M>>(kind: K, body: BodyInput<M[K]>, options?: SessionSendOptions<H>): number;
  /** The next message from the server, whatever its sequence number (server pushes). */
  receive<E extends MessageKind<M> = MessageKind<M>>(options?: SessionReceiveOptions<E>): Promise<SessionMessage<H, M, E>>;
  /** Changes header fields sent from now on, e.g. `set({ session: login.body.session })`. */
  set(fields: Partial<Encodable<H>>): void;
  /** The header fields sent with every message. */
  readonly state: Readonly<Partial<Encodable<H>>>;
  /** The sequence number of the last message sent (`firstSeq - 1` before any). */
  readonly seq: number;
}

// ------------------------------------------------------------------------------ internals

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

interface Parser {
  framing: Framing;
  reader: FrameReader;
  /** The chunks pushed to the reader that may still hold bytes it has not returned. */
  chunks: Buffer[];
  /** Total bytes of `chunks`. */
  held: number;
}

/**
 * The bytes received and not yet read. Frames are cut by the framing module's FrameReader
 * (the one frame parser); raw reads take from a ByteQueue. The bytes are in one place at a time:
 * while a reader is attached the queue is empty, and switching to raw reads or to another
 * framing hands the reader's unread bytes back to the queue (views, not copies).
 */
class Inbox {
  private readonly queue = new ByteQueue();
  private parser: Parser | undefined;

  push(chunk: Buffer): void {
    const p = this.parser;
    if (p === undefined) return this.queue.push(chunk);
    p.reader.push(chunk);
    p.chunks.push(chunk);
    p.held += chunk.length;
  }

  /** Exactly `n` bytes, or undefined until they are in. */
  take(n: number): Buffer | undefined {
    this.detach();
    return this.queue.length >= n ? this.queue.take(n) : undefined;
  }

  /**
   * The next frame cut by `framing`, or undefined until it is complete. Throws the reader's
   * FrameError, leaving the bytes in place for a read with other options.
   */
  frame(framing: Framing): Buffer | undefined {
    let p = this.parser;
    if (p === undefined || p.framing !== framing) {
      this.detach();
      p = this.attach(framing);
    }
    let frame: Buffer | undefined;
    try {
      frame = p.reader.next();
    } catch (err) {
      this.detach();
      throw err;
    }
    if (frame !== undefined) {
      // Forget chunks wholly consumed; the frame returned keeps its own reference.
      const left = p.reader.buffered;
      while (p.chunks.length > 0 && p.held - p.chunks[0].length >= left) p.held -= p.chunks.shift()!.length;
    }
    return frame;
  }

  private attach(framing: Framing): Parser {
    const reader = framing.reader();
    const p: Parser = { framing, reader, chunks: [], held: 0 };
    if (this.queue.length > 0) {
      const all = this.queue.take(this.queue.length);
      reader.push(all);
      p.chunks.push(all);
      p.held = all.length;
    }
    this.parser = p;
    return p;
  }

  private detach(): void {
    const p = this.parser;
    if (p === undefined) return;
    this.parser = undefined;
    let skip = p.held - p.reader.buffered;
    for (const c of p.chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      this.queue.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
  }
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

class Connection implements FramedTcpConnection {
  private readonly inbox = new Inbox();
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
    const rec = scope.runtime.recorder;
    socket.on('data', (chunk: Buffer) => {
      rec.bytes(0, chunk.length);
      this.inbox.push(chunk);
      this.pump();
    });
    socket.on('error', (err) => this.ended(err));
    // The error is made only when the close is news: a connection the user closed ends quietly.
    socket.on('close', () => this.closedWith === undefined && this.ended(new LoadError('ECONNRESET', 'closed by the server', false)));
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
      this.closedWith = new StopError();
      this.scope.runtime.recorder.connectionClosed();
      this.pump();
    }
    this.socket.destroy();
  }
}

// ------------------------------------------------------------------------------ sessions

/** What a session needs of a struct, without its types. */
interface Codec {
  encode(value: unknown): Buffer;
  decode(input: Uint8Array): unknown;
  decodeFrom(input: Uint8Array): { value: Record<string, unknown>; end: number };
}

interface CompiledProtocol {
  header: Codec;
  typeField: string;
  seqField: string;
  byKind: Map<string, MessageSpec>;
  kindOf: Map<number, string>;
  state: Record<string, unknown>;
  firstSeq: number;
  maxSeq: number;
}

function isStruct(v: unknown): v is Struct<any> {
  const s = v as { encode?: unknown; decode?: unknown; decodeFrom?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.encode === 'function' && typeof s.decode === 'function' && typeof s.decodeFrom === 'function';
}

const isSeq = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Checks a session's protocol; throws LF_TCP_PROTOCOL listing every problem (a scenario bug). */
function compileProtocol(p: SessionProtocol<any, any>): CompiledProtocol {
  const problems: string[] = [];
  const def = (p ?? {}) as Partial<SessionProtocol<any, any>>;
  if (!isStruct(def.header)) problems.push('header must be a struct(...)');
  if (typeof def.typeField !== 'string' || def.typeField === '') problems.push(`typeField must name a header field, got ${JSON.stringify(def.typeField)}`);
  if (typeof def.seqField !== 'string' || def.seqField === '') problems.push(`seqField must name a header field, got ${JSON.stringify(def.seqField)}`);
  else if (def.seqField === def.typeField) problems.push('typeField and seqField must be two fields');
  const firstSeq = def.firstSeq ?? 1;
  const maxSeq = def.maxSeq ?? 0xffffffff;
  if (!isSeq(firstSeq)) problems.push(`firstSeq must be an integer in [0, 2^32), got ${def.firstSeq}`);
  if (!isSeq(maxSeq) || maxSeq < firstSeq) problems.push(`maxSeq must be an integer in [firstSeq, 2^32), got ${def.maxSeq}`);
  const byKind = new Map<string, MessageSpec>();
  const kindOf = new Map<number, string>();
  const messages = def.messages;
  if (typeof messages !== 'object' || messages === null || Object.keys(messages).length === 0) {
    problems.push('messages must name at least one message kind: { KIND: { type, body? } }');
  } else {
    for (const [kind, spec] of Object.entries(messages as MessageSpecs)) {
      if (typeof spec !== 'object' || spec === null || !Number.isInteger(spec.type) || spec.type < 0) {
        problems.push(`messages.${kind}.type must be a non-negative integer, got ${JSON.stringify((spec as MessageSpec | null)?.type)}`);
        continue;
      }
      if (spec.body !== undefined && !isStruct(spec.body)) problems.push(`messages.${kind}.body must be a struct(...) or absent`);
      const other = kindOf.get(spec.type);
      if (other !== undefined) problems.push(`messages.${kind} and messages.${other} have the same type ${spec.type}`);
      kindOf.set(spec.type, kind);
      byKind.set(kind, spec);
    }
  }
  if (problems.length > 0) throw new LoadError('LF_TCP_PROTOCOL', `tcp session: ${problems.join('; ')}`, false);
  return {
    header: def.header as unknown as Codec,
    typeField: def.typeField as string,
    seqField: def.seqField as string,
    byKind,
    kindOf,
    state: { ...(def.state as Record<string, unknown> | undefined) },
    firstSeq,
    maxSeq,
  };
}

const NO_BODY: Record<string, never> = Object.freeze({}) as Record<string, never>;

/** The untyped implementation of TcpSession: the types are the interface's. */
class Session {
  private readonly values: Record<string, unknown>;
  private last: number;

  constructor(
    private readonly conn: Connection,
    private readonly p: CompiledProtocol,
  ) {
    this.values = p.state;
    this.last = p.firstSeq - 1;
  }

  get state(): Readonly<Record<string, unknown>> {
    return { ...this.values };
  }

  get seq(): number {
    return this.last;
  }

  set(fields: Record<string, unknown>): void {
    Object.assign(this.values, fields);
  }

  /** The next message's header and body; its sequence number is used up only if it encodes. */
  private next(kind: string, body: unknown, header: Record<string, unknown> | undefined): { seq: number; bytes: Buffer } {
    const spec = this.spec(kind);
    const seq = this.last >= this.p.maxSeq ? this.p.firstSeq : this.last + 1;
    const bytes = this.encode(spec, seq, body, header);
    this.last = seq;
    return { seq, bytes };
  }

  private spec(kind: string): MessageSpec {
    const spec = this.p.byKind.get(kind);
    if (spec === undefined) {
      throw new LoadError('LF_TCP_PROTOCOL', `tcp session: no message kind ${JSON.stringify(kind)} (known: ${[...this.p.byKind.keys()].join(', ')})`, false);
    }
    return spec;
  }

  /** Header and body of one message. Throws StructError for values that do not fit (a scenario bug). */
  private encode(spec: MessageSpec, seq: number, body: unknown, header: Record<string, unknown> | undefined): Buffer {
    const h = this.p.header.encode({ ...this.values, ...header, [this.p.typeField]: spec.type, [this.p.seqField]: seq });
    if (spec.body === undefined) return h;
    return Buffer.concat([h, (spec.body as unknown as Codec).encode(body ?? NO_BODY)]);
  }

  /** A received frame as a message; StructError (made EPROTO by the caller) when it does not decode. */
  private decode(frame: Buffer): { kind: string; type: number; header: Record<string, unknown>; body: unknown } {
    const { value: header, end } = this.p.header.decodeFrom(frame);
    const type = header[this.p.typeField] as number;
    const kind = this.p.kindOf.get(type);
    if (kind === undefined) throw new LoadError('EPROTO', `a message of unknown type ${type} (0x${type.toString(16)})`, false);
    const spec = this.p.byKind.get(kind) as MessageSpec;
    const rest = frame.subarray(end);
    let body: unknown;
    if (spec.body !== undefined) body = (spec.body as unknown as Codec).decode(rest);
    else if (rest.length === 0) body = NO_BODY;
    else throw new LoadError('EPROTO', `${kind} has no body, but ${rest.length} bytes follow its header`, false);
    return { kind, type, header, body };
  }

  /** Why `msg` is not what `expect` allows (`unexpected response <KIND>`), or undefined when it is. */
  private refusal(msg: { kind: string; body: unknown }, expect: string | readonly string[] | undefined): { code: string; detail: string } | undefined {
    if (expect === undefined) return undefined;
    const ok = typeof expect === 'string' ? msg.kind === expect : expect.includes(msg.kind);
    if (ok) return undefined;
    const want = typeof expect === 'string' ? expect : expect.join(' or ');
    return { code: `unexpected response ${msg.kind}`, detail: `expected ${want}, got ${msg.kind} ${showBody(msg.body)}` };
  }

  /** Records the exchange (timed as `tcp.<name>` when named) as one operation, failed if `expect` refuses it. */
  private settle(msg: { kind: string; body: unknown }, expect: string | readonly string[] | undefined, name: string | undefined, start: number): void {
    const refused = this.refusal(msg, expect);
    if (name) {
      this.conn.scope.ok(`tcp.${name}`, start, 0, 0, refused?.code);
      if (refused) throw this.conn.unexpected(refused.code, name, refused.detail);
    } else if (refused) {
      throw this.conn.scope.fail(new LoadError(refused.code, refused.detail, false), 'tcp receive');
    }
  }

  request(kind: string, body: unknown, options: SessionRequestOptions<any, string> = {}): Promise<any> {
    const name = options.name ?? kind;
    let seq = 0;
    const payload = () => {
      const m = this.next(kind, body, options.header);
      seq = m.seq;
      return m.bytes;
    };
    return this.conn.exchange(name, payload, options.timeout, (frame, start) => {
      const msg = this.decode(frame);
      const got = msg.header[this.p.seqField];
      if (got !== seq) throw new LoadError('EPROTO', `the reply (${msg.kind}) has seq ${got}, the request had ${seq}`, false);
      this.settle(msg, options.expect, name, start);
      return msg;
    });
  }

  send(kind: string, body: unknown, options: SessionSendOptions<any> = {}): number {
    const m = this.next(kind, body, options.header);
    this.conn.send(m.bytes);
    return m.seq;
  }

  receive(options: SessionReceiveOptions<string> = {}): Promise<any> {
    const name = options.name;
    return this.conn.receiveWith({ timeout: options.timeout, name }, (frame, start) => {
      const msg = this.decode(frame);
      this.settle(msg, options.expect, name, start);
      return msg;
    });
  }
}

function showBody(body: unknown): string {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text === undefined || text === '{}' ? '' : text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

// ------------------------------------------------------------------------------ client

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

function isFraming(f: unknown): f is Framing {
  const o = f as { encode?: unknown; reader?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.encode === 'function' && typeof o.reader === 'function';
}

export function createTcpClient(scope: UserScope): TcpClient {
  const rt = scope.runtime;
  function connect(target?: string, options: TcpConnectOptions = {}): Promise<FramedTcpConnection> {
    const where = target ?? rt.target;
    if (options.framing !== undefined && !isFraming(options.framing)) {
      return Promise.reject(new LoadError('LF_TCP_OPTIONS', `tcp connect ${where}: framing must be lengthPrefixed({ … }) or delimited({ … })`, false));
    }
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
        const conn = new Connection(socket, scope, where, options.framing);
        scope.track(conn);
        resolve(conn);
      });
    });
  }
  return { connect } as TcpClient;
}
