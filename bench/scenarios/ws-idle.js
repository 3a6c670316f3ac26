// BENCH_USERS users each open one WebSocket (started evenly over BENCH_RAMP s) and hold it, idle,
// until the load ends: what a held connection costs the worker, user included.
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-ws-idle',
  target: 'ws://127.0.0.1:8080',
  load: { users: Number(process.env.BENCH_USERS ?? 1000), duration: Number(process.env.BENCH_SECONDS ?? 30), rampUp: Number(process.env.BENCH_RAMP ?? 5) },
  http: { timeout: '20s' },
  grace: 5,
  async user(u) {
    if (u.iteration > 0) return u.think(u.endsIn() / 1000);
    const conn = await u.ws.connect();
    u.vars.joined = Date.now();
    await u.think(u.endsIn() / 1000);
    await conn.close();
  },
});
