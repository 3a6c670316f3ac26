// 50 users (BENCH_USERS) looping one keep-alive GET for BENCH_SECONDS: the generator's cost per request.
const { defineScenario } = require('loadfarm');

module.exports = defineScenario({
  name: 'bench-http',
  target: 'http://127.0.0.1:8080',
  load: { users: Number(process.env.BENCH_USERS ?? 50), duration: Number(process.env.BENCH_SECONDS ?? 10) },
  grace: 2,
  async user(u) {
    await u.http.get('/');
  },
});
