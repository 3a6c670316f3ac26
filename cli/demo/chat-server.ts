import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Socket.IO chat room examples/socketio.ts expects, on namespace /chat: a middleware that
 * requires `auth.token` ("user-<id>"), `join(room, ack)` acking `{ ok, members }`, and
 * `say({ room, text })` broadcast to the room as `message` `{ from: <id>, text }`.
 * Needs the `socket.io` package (a development dependency): undefined when it is not installed.
 */
export interface ChatServer {
  url: string;
  seen: { connections: number; joins: number; says: number; rejected: number };
  close(): Promise<void>;
}

export async function startChatServer(host = '127.0.0.1', port = 0): Promise<ChatServer | undefined> {
  let io: typeof import('socket.io');
  try {
    io = require('socket.io');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  const seen = { connections: 0, joins: 0, says: 0, rejected: 0 };
  const server = http.createServer();
  const ioServer = new io.Server(server, { transports: ['websocket', 'polling'] });
  const chat = ioServer.of('/chat');
  chat.use((socket, next) => {
    const token = socket.handshake.auth?.token;
    if (typeof token !== 'string' || !/^user-\d+$/.test(token)) {
      seen.rejected++;
      return next(new Error('auth.token must be user-<id>'));
    }
    socket.data.id = Number(token.slice('user-'.length));
    next();
  });
  chat.on('connection', (socket) => {
    seen.connections++;
    socket.on('join', async (room: string, ack?: (r: { ok: boolean; members: number }) => void) => {
      seen.joins++;
      await socket.join(room);
      ack?.({ ok: true, members: (await chat.in(room).fetchSockets()).length });
    });
    socket.on('say', (m: { room: string; text: string }) => {
      seen.says++;
      chat.to(m.room).emit('message', { from: socket.data.id, text: m.text });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    seen,
    close: () => new Promise((resolve) => ioServer.close(() => resolve())),
  };
}
