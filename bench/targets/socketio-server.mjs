// A Socket.IO target (websocket transport only, no compression): `echo` events come back as `echo`,
// and acks are answered. Usage: node socketio-server.mjs [--processes N]
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { clustered, argInt } from './cluster.mjs';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { Server } = require('socket.io');

clustered(argInt('--processes', 1), (port, ready) => {
  const server = http.createServer();
  const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, httpCompression: false, pingInterval: 60_000, pingTimeout: 60_000 });
  io.on('connection', (socket) => {
    socket.on('echo', (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
      if (ack) ack(...args);
      else socket.emit('echo', ...args);
    });
  });
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => ready(server.address().port));
});
