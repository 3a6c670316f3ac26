// Soak, closed model: BENCH_USERS long-lived users for BENCH_SECONDS, each looping a GET and a
// short think, keeping per-user state in u.vars (bounded). Issue 12 (bench/parts/scale-soak.mjs).
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-soak-closed',
  target: 'http://127.0.0.1:8080',
  load: { users: Number(process.env.BENCH_USERS ?? 200), duration: Number(process.env.BENCH_SECONDS ?? 60) },
  grace: 2,
  async user(u) {
    u.vars.n = ((u.vars.n ?? 0) + 1) % 1000;
    const res = await u.http.get('/session', { name: '/session' });
    u.check('status 200', res.status === 200);
    await u.think(0.05, 0.15);
  },
});
