// A Socket.IO chat room: users join rooms of 10, post messages and receive everyone's broadcasts.
// Run it:  npx loadfarm run examples/socketio.ts --target http://127.0.0.1:3000 --workers 2
// The server it expects: a middleware that checks `auth.token`, `join` (room, ack) that acks
// `{ ok, members }`, and `say` ({ room, text }) broadcast to the room as `message` ({ from, text }).
import { defineScenario } from 'loadfarm';

interface Joined {
  ok: boolean;
  members: number;
}

interface ChatMessage {
  from: number;
  text: string;
}

export default defineScenario({
  name: 'socketio-chat',
  target: 'http://127.0.0.1:3000',
  load: { users: 100, duration: '30s', rampUp: '10s' },
  thresholds: {
    'socketio.connect': ['p(95) < 200'],
    'socketio.ack join': ['p(99) < 100'],
    'socketio.echo': ['p(95) < 150'],
    errors: ['rate < 0.01'],
  },
  async user(u) {
    // Timed as socketio.connect; the server's middleware sees the auth as socket.handshake.auth.
    const conn = await u.socketio.connect(undefined, { namespace: '/chat', auth: { token: `user-${u.id}` } });
    const room = `room-${Math.floor(u.id / 10)}`;

    // Every broadcast received counts `socketio.received message` by itself; count this user's share
    // too, listening before joining so that no broadcast slips in between.
    let heard = 0;
    conn.on('message', () => heard++);

    // emit with an acknowledgement: timed as `socketio.ack join`, resolves with the ack's arguments.
    const [joined] = await conn.ack<[Joined]>('join', [room]);
    u.check('joined', joined.ok);

    for (let i = 0; i < 5; i++) {
      const text = `hello ${i} from ${u.id}`;
      // Timed from the emit until our own message comes back in the room's broadcast, as socketio.echo.
      await conn.request<[ChatMessage]>('say', [{ room, text }], 'message', (m) => m.from === u.id && m.text === text, { name: 'echo' });
      await u.think(1, 2);
    }

    u.count('chat.heard', heard);
    conn.disconnect();
  },
});
