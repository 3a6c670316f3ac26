// Connections held the way real clients hold them: a heartbeat to find dead connections, and
// reconnection with exponential backoff and full jitter when they drop. Made for one question:
// what happens when the server restarts mid-test and every client comes back at once?
//
// Run it:  npx loadfarm run examples/websocket-reconnect.ts --target ws://127.0.0.1:8080/ws --workers 2
// then restart the server a minute in, and read in the report:
//   ws.reconnect            how long clients were away (drop to open again, ms), p50 … max
//   ws.reconnects           connections that came back; ws.reconnect_attempts how hard they knocked
//   ws.reconnect_failed     clients that gave up (their last error, e.g. ECONNREFUSED, is in errors)
//   ws.heartbeat            ping round trips; a missing pong counts ETIMEDOUT and reconnects
//   ws.echo                 exchanges, timed from the send: those caught by the restart include the wait
// Add churn, the way phones drop off and come back, with --param churn=2m (mean connection lifetime).
// Expects the demo's echo service: each {"id": …} comes back as {"id": …, "echo": …}.
import { defineScenario } from 'loadfarm';

export default defineScenario({
  name: 'websocket-reconnect',
  target: 'ws://127.0.0.1:8080/ws',
  load: { users: 500, duration: '3m', rampUp: '30s' },
  thresholds: {
    'ws.reconnect': ['p(99) < 20000'], // everyone back within 20 s of a restart
    // Exchanges caught by a restart wait for the reconnect: the tail shows it, the median should not.
    'ws.echo': ['p(50) < 100'],
    errors: ['rate < 0.01'],
  },
  async user(u) {
    const conn = await u.ws.connect(undefined, {
      // A protocol ping every 10 s; no pong within 5 s and the connection is dead.
      heartbeat: { interval: '10s', timeout: '5s' },
      // Backoff before attempt k is random in [0, min(15 s, 500 ms · 2^k)), from the user's seeded
      // rng: the same --seed replays the same herd. 12 attempts, then the user gives up.
      reconnect: { base: '500ms', cap: '15s', maxAttempts: 12 },
      randomDisconnect: u.params.churn ? { meanInterval: u.params.churn } : undefined,
    });
    // Runs before the messages sent while it was down go out: where a real client logs in again.
    conn.onReconnect(({ attempts }) => u.count(attempts > 3 ? 'came back slowly' : 'came back quickly'));

    // Hold the connection to the end of the load, talking now and then. A request made while the
    // connection is away waits for it (hence the long timeout) instead of failing. (`loadfarm
    // validate` runs one user with no end to its load: one exchange is enough there.)
    const holding = Number.isFinite(u.endsIn());
    for (let i = 0; ; i++) {
      const id = `${u.id}-${i}`;
      await conn.request({ id, text: 'still here' }, (m) => m.json<{ id?: string }>().id === id, { name: 'echo', timeout: '30s' });
      if (!holding || u.endsIn() === 0) break;
      await u.think(Math.min(u.rng.float(5, 15), u.endsIn() / 1000));
    }
    await conn.close();
  },
});
