// WebSocket users in a closed model: each holds a connection and makes timed request/reply exchanges.
// Run it:  npx loadfarm run examples/websocket.ts --target ws://127.0.0.1:8080/ws --workers 2
import { defineScenario } from 'loadfarm';

export default defineScenario({
  name: 'websocket-echo',
  target: 'ws://127.0.0.1:8080/ws',
  load: { users: 50, duration: '15s', rampUp: '5s' },
  thresholds: { 'ws.echo': ['p(95) < 100'], errors: ['rate < 0.01'] },
  async user(u) {
    const conn = await u.ws.connect(); // the target; timed as ws.connect
    for (let i = 0; i < 10; i++) {
      const id = `${u.id}-${u.iteration}-${i}`;
      // Timed from send to the matching reply, as ws.echo.
      await conn.request({ id, text: 'hello' }, (m) => m.json<{ id: string }>().id === id, { name: 'echo' });
      await u.think(0.1, 0.3);
    }
    await conn.close();
  },
});
