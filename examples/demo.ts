// The demo (`loadfarm demo`): HTTP, WebSocket and binary TCP users against built-in loopback targets.
// The HTTP/WebSocket server is the target; the TCP service's address arrives as u.params.tcp.
import { defineScenario } from 'loadfarm';

export default defineScenario({
  name: 'demo',
  load: {
    phases: [
      { name: 'ramp', duration: '4s', arrivalRate: 20, rampTo: 80 },
      { name: 'peak', duration: '6s', arrivalRate: 80 },
    ],
    maxUsers: 400,
  },
  thresholds: {
    'http.*': ['p(99) < 500'],
    'ws.echo': ['p(99) < 500'],
    'tcp.ping': ['p(99) < 500'],
    errors: ['rate < 0.01'],
  },
  flows: [
    {
      name: 'browse',
      weight: 3,
      async user(u) {
        await u.http.get('/');
        const item = await u.http.get(`/items/${u.rng.int(1, 100)}`, { name: '/items/:id' });
        u.check('item ok', item.status === 200);
      },
    },
    {
      name: 'chat',
      weight: 2,
      async user(u) {
        const conn = await u.ws.connect(new URL('/ws', u.target.replace(/^http/, 'ws')).href);
        for (let i = 0; i < 3; i++) {
          const id = `${u.id}-${i}`;
          await conn.request({ id }, (m) => m.json<{ id: string }>().id === id, { name: 'echo' });
          await u.think(0.05, 0.15);
        }
        await conn.close();
      },
    },
    {
      name: 'device',
      weight: 1,
      async user(u) {
        const conn = await u.tcp.connect(u.params.tcp);
        for (let seq = 1; seq <= 3; seq++) {
          const req = Buffer.alloc(9);
          req.writeUInt32BE(5, 0);
          req.writeUInt8(1, 4);
          req.writeUInt32BE(seq, 5);
          conn.write(req);
          const reply = await conn.readFrame({ name: 'ping' });
          u.check('pong', reply[0] === 2 && reply.readUInt32BE(1) === seq);
        }
        await conn.close();
      },
    },
  ],
});
