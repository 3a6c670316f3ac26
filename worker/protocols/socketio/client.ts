import type { ManagerOptions } from 'socket.io-client';
import { parseDuration } from '../../scenario/duration';
import { LoadError } from '../errors';
import type { UserScope } from '../../engine/scope';
import { Connection } from './connection';
import { Opening } from './opening';
import type { SocketIoClient, SocketIoConnection, SocketIoConnectOptions } from './types';
import { prefixedNames } from '../../metrics/names';

const INBOX_DEFAULT = 100;

/** `socketio <origin><namespace>` labels, one string per target. */
const labels = prefixedNames('socketio ', 256);

function labelOf(origin: string, namespace: string): string {
  return labels(`${origin}${namespace}`);
}

const ORIGIN_SCHEMES: Record<string, string> = { 'http:': 'http:', 'ws:': 'http:', 'https:': 'https:', 'wss:': 'https:' };

/** `u.socketio` of one user: its methods are shared by every user (no closure per user). */
class Client implements SocketIoClient {
  constructor(private readonly scope: UserScope) {}

  connect(url?: string, options: SocketIoConnectOptions = {}): Promise<SocketIoConnection> {
    const scope = this.scope;
    const rt = scope.runtime;
    const start = scope.begin();
    let target: URL;
    try {
      target = new URL(url ?? rt.target, rt.target);
    } catch (err) {
      return Promise.reject(scope.fail(new LoadError('EINVALIDURL', `not a URL: ${url ?? rt.target}`, false, { cause: err }), 'socketio connect'));
    }
    const scheme = ORIGIN_SCHEMES[target.protocol];
    if (scheme === undefined) {
      return Promise.reject(scope.fail(new LoadError('EINVALIDURL', `expected http(s):// or ws(s)://, received ${target.href}`, false), 'socketio connect'));
    }
    const origin = `${scheme}//${target.host}`;
    const ns = options.namespace ?? target.pathname;
    const namespace = ns === '' ? '/' : ns.startsWith('/') ? ns : `/${ns}`;
    const query = target.search === '' ? options.query : { ...Object.fromEntries(target.searchParams), ...options.query };
    const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
    const managerOptions: Partial<ManagerOptions> & { localAddress?: string } = {
      path: options.path ?? '/socket.io',
      transports: options.transports ?? ['websocket'],
      reconnection: false,
      autoConnect: false,
      // Our timer covers the transport handshake and the namespace CONNECT; `false` turns the
      // Manager's own (handshake only, reported by message) off.
      timeout: false as unknown as number,
      perMessageDeflate: (options.compress ? { threshold: 1024 } : false) as { threshold: number },
    };
    // Only options given: Engine.IO copies every key into each transport's options, a dictionary
    // per connection that doubles in size past 21 keys (the defaults and ours are 20).
    if (query !== undefined) managerOptions.query = query;
    if (options.headers !== undefined) managerOptions.extraHeaders = options.headers;
    const localAddress = rt.sourceAddress();
    if (localAddress !== undefined) managerOptions.localAddress = localAddress;
    return new Promise<SocketIoConnection>((resolve, reject) => {
      const opening = new Opening(start, timeoutMs, resolve, reject);
      const conn = new Connection(scope, labelOf(origin, namespace), origin, namespace, options.auth, managerOptions, options.inbox ?? INBOX_DEFAULT, opening);
      // Tracked while connecting too, so that a user cut mid-handshake leaves nothing open.
      scope.track(conn);
      conn.open();
    });
  }
}

export function createSocketIoClient(scope: UserScope): SocketIoClient {
  return new Client(scope);
}
