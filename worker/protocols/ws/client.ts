import { parseDuration } from '../../scenario/duration';
import type { Rng } from '../../engine/rng';
import { LoadError } from '../errors';
import type { UserScope } from '../../engine/scope';
import { dial, liveConfig } from './config';
import { Connection } from './connection';
import { ignore, type OwnedSocket } from './socket';
import type { WsClient, WsConnection, WsConnectOptions } from './types';

/**
 * The user's seeded rng: a getter, or an object holding it (the user itself: no closure per
 * user), read only when a connection asks for something random.
 */
export type RngSource = (() => Rng) | { readonly rng: Rng };

function rngOf(source: RngSource | undefined): (() => Rng) | undefined {
  if (source === undefined || typeof source === 'function') return source;
  return () => source.rng;
}

/** `u.ws` of one user: its methods are shared by every user (no closure per user). */
class Client implements WsClient {
  constructor(
    private readonly scope: UserScope,
    private readonly rng: RngSource | undefined,
  ) {}

  connect(url?: string, options: WsConnectOptions = {}): Promise<WsConnection> {
    const scope = this.scope;
    const rt = scope.runtime;
    const href = url === undefined ? rt.target : new URL(url, rt.target).href;
    const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
    const { config, problems } = liveConfig(href, options, rt, rngOf(this.rng), timeoutMs);
    if (problems.length > 0) {
      return Promise.reject(scope.fail(new LoadError('EINVALIDOPTION', problems.join('; '), false), `ws connect ${href}`));
    }
    const start = scope.begin();
    return new Promise((resolve, reject) => {
      let socket: OwnedSocket;
      try {
        socket = dial(href, options, rt);
      } catch (err) {
        return reject(scope.fail(Object.assign(err as Error, { code: 'EINVALIDURL' }), `ws connect ${href}`));
      }
      const timer = setTimeout(() => fail(new LoadError('ETIMEDOUT', `no handshake within ${timeoutMs} ms`, false)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', ignore);
        socket.terminate();
        reject(scope.fail(err, `ws connect ${href}`));
      };
      socket.once('error', fail);
      socket.once('unexpected-response', (_req, res) => {
        fail(new LoadError(`HTTP ${res.statusCode}`, `upgrade refused with status ${res.statusCode}`, false));
      });
      socket.once('open', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.removeAllListeners('unexpected-response');
        scope.ok('ws.connect', start);
        rt.recorder.connectionOpened();
        const conn = new Connection(socket, scope, href, config);
        scope.track(conn);
        resolve(conn);
      });
    });
  }
}

/**
 * @param rng the user's seeded rng (a getter, or the user holding it, so that it is made only
 *   when used): jitter and random disconnects come from it, so runs replay.
 */
export function createWsClient(scope: UserScope, rng?: RngSource): WsClient {
  return new Client(scope, rng);
}
