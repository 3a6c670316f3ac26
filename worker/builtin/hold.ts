import { defineScenario } from '../scenario/define';
import type { Scenario, User } from '../scenario/types';
import type { TcpConnection } from '../protocols/tcp';
import type { WsConnection } from '../protocols/ws';

/**
 * The connection-ceiling test (`loadfarm hold`) as a scenario: each worker dials its share of
 * `connections`, one every `delayMs`, holds every connection until the load ends (dials +
 * `holdMs`), then closes them. Counters: `hold.dials`, `hold.established`, `hold.dropped` (closed
 * by the other side while held); failed dials are errors by code; connect times are
 * `tcp.connect` / `ws.connect`. The run passes only when every connection was established and
 * none was dropped (its thresholds say so).
 */
/**
 * The scenario file name of every hold run (plan.scenario.file): the report judges such a run
 * by its connections — any not established or not held makes it incomplete (exit 2).
 */
export const HOLD_SCENARIO_FILE = '<hold>';

export interface HoldOptions {
  /** tcp://host:port, ws://… or wss://… */
  target: string;
  connections: number;
  /** Worker processes sharing the connections (each dials ceil(connections / workers) at most). */
  workers: number;
  delayMs: number;
  holdMs: number;
  timeoutMs: number;
}

export function holdScenario(o: HoldOptions): Scenario {
  const perWorker = Math.ceil(o.connections / o.workers);
  const dialMs = perWorker * o.delayMs;
  const isWs = o.target.startsWith('ws:') || o.target.startsWith('wss:');
  return defineScenario({
    name: 'hold',
    target: o.target,
    load: { users: o.connections, duration: Math.max(1, dialMs + o.holdMs) / 1000, rampUp: dialMs / 1000 },
    http: { timeout: o.timeoutMs / 1000 },
    grace: 5,
    thresholds: {
      'hold.established': [`count == ${o.connections}`],
      errors: ['count == 0'],
      checks: ['rate == 1'],
    },
    async user(u: User) {
      if (u.iteration > 0) return u.think(u.endsIn() / 1000);
      u.count('hold.dials');
      const conn: TcpConnection | WsConnection = isWs ? await u.ws.connect(o.target) : await u.tcp.connect(o.target);
      u.count('hold.established');
      // Closed by the other side while held: counted when it happens; the user then waits to the
      // end all the same, so that a closed-model loop does not redial (this test counts, it does not retry).
      let closedByPeer = false;
      const dropped = () => {
        closedByPeer = true;
        u.check('held until the end', false);
        u.count('hold.dropped');
      };
      conn.socket.once('close', dropped);
      try {
        await u.think(u.endsIn() / 1000);
      } finally {
        // Our own close (at the end, or when the user is cut) is no drop.
        if (!closedByPeer) conn.socket.off('close', dropped);
      }
      if (!closedByPeer) {
        u.check('held until the end', true);
        await conn.close();
      }
    },
  });
}
