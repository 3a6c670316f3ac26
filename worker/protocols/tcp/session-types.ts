import type { Duration } from '../../scenario/duration';
import type { Decoded, Encodable, Infer, Shape, Struct } from '../binary';


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

