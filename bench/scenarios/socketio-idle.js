// BENCH_USERS users each open one Socket.IO connection (websocket transport) and hold it, idle,
// until the load ends.
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-socketio-idle',
  target: 'http://127.0.0.1:3000',
  load: { users: Number(process.env.BENCH_USERS ?? 1000), duration: Number(process.env.BENCH_SECONDS ?? 30), rampUp: Number(process.env.BENCH_RAMP ?? 5) },
  http: { timeout: '20s' },
  grace: 5,
  async user(u) {
    if (u.iteration > 0) return u.think(u.endsIn() / 1000);
    const conn = await u.socketio.connect(undefined, { transports: ['websocket'] });
    u.vars.joined = Date.now();
    await u.think(u.endsIn() / 1000);
    conn.disconnect();
  },
});
