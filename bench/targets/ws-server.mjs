// A WebSocket target (the `ws` library, no compression): echoes every message back.
// Usage: node ws-server.mjs [--processes N]   (N processes share the port: see cluster.mjs)
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { clustered, argInt } from './cluster.mjs';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { WebSocketServer } = require('ws');

clustered(argInt('--processes', 1), (port, ready) => {
  const server = http.createServer((req, res) => res.end('ws only'));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => ready(server.address().port));
});
