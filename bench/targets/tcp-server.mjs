// A TCP target that accepts and holds: it reads and drops whatever comes, and closes its side when
// the client closes (connect+close loops) or holds until then (`loadfarm hold`).
// Usage: node tcp-server.mjs [--processes N]   (N processes share the port: see cluster.mjs)
import * as net from 'node:net';
import { clustered, argInt } from './cluster.mjs';

clustered(argInt('--processes', 1), (port, ready) => {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => {});
    s.resume();
  });
  server.maxConnections = 1_000_000;
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => ready(server.address().port));
});
