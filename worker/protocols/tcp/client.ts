import * as net from 'node:net';
import { parseDuration } from '../../scenario/duration';
import { LoadError } from '../errors';
import type { Framing } from '../binary';
import type { UserScope } from '../../engine/scope';
import { Connection } from './connection';
import { arm, Deadline, disarm } from '../deadlines';
import type { FramedTcpConnection, TcpClient, TcpConnectOptions } from './types';


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

/** Parsed targets by string: a dial loop to one target parses it once. */
const TARGETS_MAX = 256;
const targets = new Map<string, { host: string; port: number }>();

function targetOf(where: string): { host: string; port: number } {
  let t = targets.get(where);
  if (t === undefined) {
    t = parseTcpTarget(where);
    if (targets.size >= TARGETS_MAX) targets.clear();
    targets.set(where, t);
  }
  return t;
}

/** The dial in progress on a socket, read by the shared listeners below (no closure per dial). */
const kDial = Symbol('dial');
type DialingSocket = net.Socket & { [kDial]?: Dial };

/**
 * One connect: timed as `tcp.connect` from `scope.begin()`, bounded by the worker's deadline
 * list (ETIMEDOUT), failures recorded once by code.
 */
class Dial extends Deadline {
  readonly promise: Promise<FramedTcpConnection>;
  private resolve!: (c: FramedTcpConnection) => void;
  private reject!: (e: unknown) => void;
  private readonly start: number;

  constructor(
    private readonly socket: DialingSocket,
    private readonly scope: UserScope,
    private readonly where: string,
    private readonly framing: Framing | undefined,
    private readonly timeoutMs: number,
  ) {
    super();
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.start = scope.begin();
    socket[kDial] = this;
    socket.on('error', onDialError);
    socket.on('connect', onDialConnect);
    arm(this, timeoutMs);
  }

  private detach(): void {
    disarm(this);
    this.socket[kDial] = undefined;
    this.socket.removeListener('error', onDialError);
    this.socket.removeListener('connect', onDialConnect);
  }

  connected(): void {
    this.detach();
    const scope = this.scope;
    scope.ok('tcp.connect', this.start);
    scope.runtime.recorder.connectionOpened();
    const conn = new Connection(this.socket, scope, this.where, this.framing);
    scope.track(conn);
    this.resolve(conn);
  }

  failed(err: Error): void {
    this.detach();
    this.socket.on('error', ignore);
    this.socket.destroy();
    this.reject(this.scope.fail(err, `tcp connect ${this.where}`));
  }

  expire(): void {
    this.failed(new LoadError('ETIMEDOUT', `no connection within ${this.timeoutMs} ms`, false));
  }
}

/** A socket given up on may still report the error that ended it. */
function ignore(): void {}

function onDialConnect(this: DialingSocket): void {
  this[kDial]?.connected();
}

function onDialError(this: DialingSocket, err: Error): void {
  this[kDial]?.failed(err);
}

export function createTcpClient(scope: UserScope): TcpClient {
  const rt = scope.runtime;
  function connect(target?: string, options: TcpConnectOptions = {}): Promise<FramedTcpConnection> {
    const where = target ?? rt.target;
    if (options.framing !== undefined && !isFraming(options.framing)) {
      return Promise.reject(new LoadError('LF_TCP_OPTIONS', `tcp connect ${where}: framing must be lengthPrefixed({ … }) or delimited({ … })`, false));
    }
    let t: { host: string; port: number };
    try {
      t = targetOf(where);
    } catch (err) {
      return Promise.reject(scope.fail(err, `tcp connect ${where}`));
    }
    const timeoutMs = options.timeout === undefined ? rt.timeoutMs : (parseDuration(options.timeout) ?? rt.timeoutMs);
    const connectOptions: net.NetConnectOpts = { host: t.host, port: t.port, noDelay: options.noDelay ?? true };
    // Only when there is one (see ws/config.ts: an undefined key is not free).
    const localAddress = rt.sourceAddress();
    if (localAddress !== undefined) connectOptions.localAddress = localAddress;
    const socket = net.connect(connectOptions);
    return new Dial(socket, scope, where, options.framing, timeoutMs).promise;
  }
  return { connect } as TcpClient;
}
