import { LoadError } from '../errors';
import type { Struct } from '../binary';
import type { Connection } from './connection';
import type { MessageSpec, MessageSpecs, SessionProtocol, SessionReceiveOptions, SessionRequestOptions, SessionSendOptions } from './session-types';


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
export function compileProtocol(p: SessionProtocol<any, any>): CompiledProtocol {
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
export class Session {
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

