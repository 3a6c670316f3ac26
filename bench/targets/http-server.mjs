// A fast HTTP/1.1 keep-alive target: every request gets `200 ok` (2 bytes).
// Prints `listening <port>` when ready. Usage: node http-server.mjs [port]
import * as http from 'node:http';

const body = Buffer.from('ok');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen({ port: Number(process.argv[2] ?? 0), host: "127.0.0.1", backlog: 4096 }, () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
