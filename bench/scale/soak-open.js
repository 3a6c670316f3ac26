// Soak, open model: BENCH_RATE short users per second (one keep-alive GET, a check, a counter, with
// varied URLs so metric names stay bounded but paths differ) for BENCH_SECONDS. Issue 12 (bench/parts/scale-soak.mjs).
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-soak-open',
  target: 'http://127.0.0.1:8080',
  load: { phases: [{ duration: Number(process.env.BENCH_SECONDS ?? 60), arrivalRate: Number(process.env.BENCH_RATE ?? 500) }], maxUsers: 2000 },
  grace: 2,
  async user(u) {
    const res = await u.http.get(`/item/${u.rng.int(0, 1_000_000)}`, { name: '/item/:id' });
    u.check('status 200', res.status === 200);
    u.count('soak.users');
  },
});
