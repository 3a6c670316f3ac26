import { createRng, type Rng } from '../../engine/rng';
import { parseReconnect, positiveDuration, type Random, type ReconnectPolicy } from '../reconnect';
import type { Runtime } from '../../engine/scope';
import { payloadOf } from './message';
import type { ClientOptions } from 'ws';
import { OwnedSocket } from './socket';
import type { WsConnectOptions, WsMessage, WsRandomDisconnectOptions } from './types';

/** Validated heartbeat, random disconnect and reconnect settings of one connection. */
export interface LiveConfig {
  readonly heartbeat?: { readonly intervalMs: number; readonly timeoutMs: number; readonly message?: string | Buffer; readonly expect?: (msg: WsMessage) => boolean };
  readonly disconnectMeanMs?: number;
  readonly reconnect?: ReconnectPolicy;
  /** The connection's own random source, seeded from the user's rng at connect. */
  readonly random: Random;
  /** Opens a new socket like the first one (headers, protocols, compression, source address). */
  readonly dial: () => OwnedSocket;
  readonly handshakeMs: number;
}


/** Opens a socket for `href` (the handshake starts at once). */
export function dial(href: string, options: WsConnectOptions, rt: Runtime): OwnedSocket {
  const socketOptions: ClientOptions = { perMessageDeflate: options.compress ?? false };
  if (options.headers !== undefined) socketOptions.headers = options.headers;
  // Keys only with values: with `localAddress: undefined` (Node binds nothing for it) an idle
  // connection measured 2-3 KB more memory outside the JS heap (scripts/ws-idle-inprocess.mts,
  // 8,000 connections; plain `ws` given the same key measured the same excess). Why was not pinned down.
  const localAddress = rt.sourceAddress();
  if (localAddress !== undefined) socketOptions.localAddress = localAddress;
  return new OwnedSocket(href, options.protocols, socketOptions);
}

/**
 * Validates the heartbeat, random disconnect and reconnect options. Undefined when none is asked
 * for (the connection then carries none of their state). Draws the connection's random seed from
 * the user's rng only when something random is asked for, so runs without them keep their sequence.
 */
export function liveConfig(href: string, options: WsConnectOptions, rt: Runtime, rng: (() => Rng) | undefined, handshakeMs: number): { config?: LiveConfig; problems: string[] } {
  const problems: string[] = [];
  const { heartbeat, randomDisconnect, reconnect } = options;
  if (heartbeat === undefined && randomDisconnect === undefined && (reconnect === undefined || reconnect === false)) return { problems };
  let hb: LiveConfig['heartbeat'];
  if (heartbeat !== undefined) {
    if (typeof heartbeat !== 'object' || heartbeat === null) problems.push(`heartbeat: expected { interval, message?, expect?, timeout? }, received ${JSON.stringify(heartbeat)}`);
    else {
      const intervalMs = positiveDuration(heartbeat.interval, 'heartbeat.interval', problems);
      const timeoutMs = heartbeat.timeout === undefined ? intervalMs : positiveDuration(heartbeat.timeout, 'heartbeat.timeout', problems);
      if (heartbeat.expect !== undefined && typeof heartbeat.expect !== 'function') problems.push(`heartbeat.expect: expected a function (msg) => boolean, received ${typeof heartbeat.expect}`);
      if (heartbeat.expect !== undefined && heartbeat.message === undefined) problems.push('heartbeat.expect: needs heartbeat.message (a protocol ping is answered by a pong, not a message)');
      if (intervalMs !== undefined && timeoutMs !== undefined) {
        hb = { intervalMs, timeoutMs, message: heartbeat.message === undefined ? undefined : payloadOf(heartbeat.message), expect: heartbeat.expect };
      }
    }
  }
  let disconnectMeanMs: number | undefined;
  if (randomDisconnect !== undefined) {
    disconnectMeanMs = positiveDuration((randomDisconnect as WsRandomDisconnectOptions | null)?.meanInterval, 'randomDisconnect.meanInterval', problems);
  }
  const policy = reconnect === undefined ? undefined : parseReconnect(reconnect, 'reconnect');
  if (policy !== undefined) problems.push(...policy.problems);
  if (problems.length > 0) return { problems };
  const needsRandom = disconnectMeanMs !== undefined || policy?.policy !== undefined;
  const seed = needsRandom ? Math.floor((rng ? rng().next() : Math.random()) * 2 ** 32) : 0;
  return {
    config: {
      heartbeat: hb,
      disconnectMeanMs,
      reconnect: policy?.policy,
      random: needsRandom ? createRng(seed).next : Math.random,
      dial: () => dial(href, options, rt),
      handshakeMs,
    },
    problems,
  };
}

