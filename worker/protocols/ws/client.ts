import { parseDuration } from '../../scenario/duration';
import type { Rng } from '../../engine/rng';
import { LoadError } from '../errors';
import type { UserScope } from '../../engine/scope';
import { dial, liveConfig } from './config';
import { Connection } from './connection';
import type { WsClient, WsConnection, WsConnectOptions } from './types';
import type WebSocket from 'ws';

/**
 * @param rng the user's seeded rng (a getter, so that it is made only when used): jitter and
 *   random disconnects come from it, so runs replay.
 */
export function createWsClient(scope: UserScope, rng?: () => Rng): WsClient {
  const rt = scope.runtime;
  return {
    connect(url?: string, options: WsConnectOptions = {}): Promise<WsConnection> {
      const href = url === undefined ? rt.target : new URL(url, rt.target).href;
      const timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
      const { config, problems } = liveConfig(href, options, rt, rng, timeoutMs);
      if (problems.length > 0) {
        return Promise.reject(scope.fail(new LoadError('EINVALIDOPTION', problems.join('; '), false), `ws connect ${href}`));
      }
      const start = scope.begin();
      return new Promise((resolve, reject) => {
        let socket: WebSocket;
        try {
          socket = dial(href, options, rt);
        } catch (err) {
          return reject(scope.fail(Object.assign(err as Error, { code: 'EINVALIDURL' }), `ws connect ${href}`));
        }
        const timer = setTimeout(() => fail(new LoadError('ETIMEDOUT', `no handshake within ${timeoutMs} ms`, false)), timeoutMs);
        const fail = (err: Error) => {
          clearTimeout(timer);
          socket.removeAllListeners();
          socket.on('error', () => {});
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
    },
  };
}
