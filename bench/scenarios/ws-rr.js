// BENCH_USERS users, each on one WebSocket, looping request → echo (every exchange timed as ws.reply)
// for BENCH_SECONDS: round trips per second.
const { defineScenario } = require('loadfarm');

const always = () => true;

module.exports = defineScenario({
  name: 'bench-ws-request-reply',
  target: 'ws://127.0.0.1:8080',
  load: { users: Number(process.env.BENCH_USERS ?? 100), duration: Number(process.env.BENCH_SECONDS ?? 10) },
  grace: 2,
  async user(u) {
    const conn = await u.ws.connect();
    while (u.endsIn() > 0) await conn.request('ping', always);
    await conn.close();
  },
});
