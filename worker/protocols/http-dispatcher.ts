import { Agent, buildConnector } from 'undici';
import type { Recorder } from '../metrics/recorder';

export interface HttpDispatcherProps {
  /** Keep-alive connections per origin; null for no limit. */
  readonly connections: number | null;
  /** Picks the local address of each new connection; undefined lets the OS choose. */
  readonly sourceAddress: () => string | undefined;
  /** Told of every socket the agent opens (`connectionOpened`, counter) and of its close (`connectionClosed`). */
  readonly recorder: Pick<Recorder, 'connectionOpened' | 'connectionClosed' | 'count'>;
  /** How long an idle keep-alive connection is kept, ms. @default 30000 */
  readonly keepAliveTimeoutMs?: number;
}

/**
 * The worker's keep-alive HTTP agent (`u.http` goes through it). Every TCP/TLS connection it
 * establishes counts once in the counter `http.connections` (a counter, not an operation: many
 * of them for few requests means keep-alive is not working) and in the `connections` gauge from
 * its connect until its socket closes, whichever side closes it. A connect that fails is in
 * neither (it is the request's error).
 */
export function createHttpDispatcher(p: HttpDispatcherProps): Agent {
  const base = buildConnector({});
  const { recorder } = p;
  return new Agent({
    connections: p.connections,
    keepAliveTimeout: p.keepAliveTimeoutMs ?? 30_000,
    connect: (options, callback) =>
      base({ ...options, localAddress: p.sourceAddress() ?? options.localAddress }, (err, socket) => {
        if (err === null) {
          recorder.connectionOpened();
          recorder.count('http.connections');
          socket.once('close', () => recorder.connectionClosed());
          callback(null, socket);
        } else callback(err, null);
      }),
  });
}
