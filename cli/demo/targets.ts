import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { startIotServer, type IotCounts } from './iot-server';

/**
 * Small loopback services to point load at: the demo's targets and the tests' well-behaved
 * servers. Each counts what it saw, so a report's numbers can be checked against the target's.
 *
 * HTTP  GET /              200 "ok"
 *       GET /items/:id     200 JSON { id, name }
 *       POST /echo         200, the request body back
 *       GET /slow?ms=N     200 after N ms (at most 10 s)
 *       GET /status/:code  that status
 * WS    /ws                each text message {"id":…} comes back as {"id":…,"echo":…}
 * TCP   frames of [u32 BE length][payload]; payload [u8 type][u32 BE seq][body]:
 *       type 1 PING → type 2 PONG with the same seq and body
 * IoT   the binary device service of ./iot-server.ts (login, telemetry, command polls)
 */
export interface DemoTargets {
  httpUrl: string;
  wsUrl: string;
  tcpAddress: string;
  /** `tcp://host:port` of the IoT device service. */
  iotAddress: string;
  seen: {
    http: number;
    httpByPath: Record<string, number>;
    wsConnections: number;
    wsMessages: number;
    tcpConnections: number;
    tcpFrames: number;
    iot: IotCounts;
  };
  close(): Promise<void>;
}

/** Ports to listen on; 0 (the default) takes a free one. */
export interface DemoPorts {
  http?: number;
  tcp?: number;
  iot?: number;
}

export async function startDemoTargets(host = '127.0.0.1', ports: DemoPorts = {}): Promise<DemoTargets> {
  const iot = await startIotServer(host, ports.iot ?? 0);
  const seen: DemoTargets['seen'] = { http: 0, httpByPath: {}, wsConnections: 0, wsMessages: 0, tcpConnections: 0, tcpFrames: 0, iot: iot.seen };
  const server = http.createServer((req, res) => {
    seen.http++;
    const url = new URL(req.url ?? '/', 'http://x');
    const route = url.pathname.replace(/^\/(items|status)\/[^/]+$/, '/$1/:id');
    seen.httpByPath[route] = (seen.httpByPath[route] ?? 0) + 1;
    if (req.method === 'POST' && url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(Buffer.concat(chunks)));
      return;
    }
    if (url.pathname === '/') return void res.end('ok');
    if (route === '/items/:id') {
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ id: url.pathname.split('/')[2], name: 'item' }));
    }
    if (url.pathname === '/slow') {
      const ms = Math.min(10_000, Number(url.searchParams.get('ms') ?? 100));
      const timer = setTimeout(() => res.end('slow'), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (route === '/status/:id') {
      res.statusCode = Number(url.pathname.split('/')[2]) || 500;
      return void res.end();
    }
    res.statusCode = 404;
    res.end('not found');
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    seen.wsConnections++;
    ws.on('message', (data, isBinary) => {
      seen.wsMessages++;
      if (isBinary) return void ws.send(data, { binary: true });
      let msg: { id?: unknown } = {};
      try {
        msg = JSON.parse(data.toString());
      } catch {
        // A non-JSON text message is echoed as text.
        return void ws.send(data.toString());
      }
      ws.send(JSON.stringify({ id: msg.id, echo: msg }));
    });
  });
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    seen.tcpConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > 1_048_576) return void socket.destroy();
        if (buf.length < 4 + len) break;
        const payload = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        seen.tcpFrames++;
        if (payload.length >= 5 && payload[0] === 1) {
          const reply = Buffer.from(payload);
          reply[0] = 2;
          const header = Buffer.alloc(4);
          header.writeUInt32BE(reply.length);
          socket.write(Buffer.concat([header, reply]));
        }
      }
    });
  });
  try {
    await Promise.all([listen(server, host, ports.http ?? 0), listen(tcp, host, ports.tcp ?? 0)]);
  } catch (err) {
    await iot.close();
    throw err;
  }
  const hp = (server.address() as AddressInfo).port;
  const tp = (tcp.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    httpUrl: `http://${h}:${hp}`,
    wsUrl: `ws://${h}:${hp}/ws`,
    tcpAddress: `tcp://${h}:${tp}`,
    iotAddress: iot.address,
    seen,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await Promise.all([new Promise((r) => wss.close(r)), new Promise((r) => server.close(r)), new Promise((r) => tcp.close(r)), iot.close()]);
    },
  };
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
