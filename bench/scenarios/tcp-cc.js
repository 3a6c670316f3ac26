// BENCH_USERS users looping connect + close on raw TCP for BENCH_SECONDS: connections per second.
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-tcp-connect-close',
  target: 'tcp://127.0.0.1:7000',
  load: { users: Number(process.env.BENCH_USERS ?? 50), duration: Number(process.env.BENCH_SECONDS ?? 10) },
  grace: 2,
  async user(u) {
    const c = await u.tcp.connect();
    await c.close();
  },
});
