// The demo (`loadfarm demo`): HTTP, WebSocket and binary TCP users against built-in loopback targets.
// The HTTP/WebSocket server is the target; the IoT device service's address arrives as u.params.iot.
import { defineScenario } from 'loadfarm';
import { device } from './iot-device';

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
    'tcp.*': ['p(99) < 500'],
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
      // IoT devices on a binary TCP protocol (examples/iot-device.ts): login, then telemetry and command polls.
      name: 'device',
      weight: 1,
      user: (u) => device(u, { address: u.params.iot, messages: 4, think: [0.05, 0.15] }),
    },
  ],
});
