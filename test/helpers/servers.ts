import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Loopback servers for protocol tests, well-behaved and not: each listens on 127.0.0.1 port 0,
 * counts the connections it accepted and saw close, and is closed by `closeServers()` (call it in
 * `afterEach`), which destroys every socket still open so that no test leaks into the next.
 */
export const HOST = '127.0.0.1';

interface Closable {
  close(): Promise<void>;
}

const running = new Set<Closable>();

/** Closes every server started by this module since the last call. */
export async function closeServers(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((s) => s.close()));
}

/** Connections as the server saw them. */
export interface Tracked {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Accepted connections that have since closed, from either side. */
  readonly closed: number;
  /** Resolves once at least `n` accepted connections have closed; rejects after `timeoutMs`. */
  closedAtLeast(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `n` connections have been accepted; rejects after `timeoutMs`. */
  acceptedAtLeast(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

class ConnectionLog {
  readonly sockets = new Set<net.Socket>();
  accepted = 0;
  closed = 0;
  private waiters: (() => void)[] = [];

  attach(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => {
      this.accepted++;
      this.sockets.add(socket);
      // A client that resets is expected here; the server must not crash the test process.
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.closed++;
        this.notify();
      });
      this.notify();
    });
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server: ${what} not reached within ${timeoutMs} ms (accepted ${this.accepted}, closed ${this.closed})`)), timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

function tracked(server: net.Server, log: ConnectionLog, extraClose?: () => Promise<void> | void): Tracked {
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const handle: Tracked = {
    port,
    get accepted() {
      return log.accepted;
    },
    get closed() {
      return log.closed;
    },
    closedAtLeast: (n, timeoutMs = 2000) => log.until(() => log.closed >= n, `${n} closed connection(s)`, timeoutMs),
    acceptedAtLeast: (n, timeoutMs = 2000) => log.until(() => log.accepted >= n, `${n} accepted connection(s)`, timeoutMs),
    close() {
      running.delete(handle);
      return (closing ??= (async () => {
        await extraClose?.();
        log.destroyAll();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })());
    },
  };
  running.add(handle);
  return handle;
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Raw TCP

export interface TcpServer extends Tracked {
  /** `tcp://127.0.0.1:<port>` */
  readonly address: string;
}

/** A raw TCP server; `onSocket` gets every accepted connection. */
export async function startTcpServer(onSocket: (socket: net.Socket) => void): Promise<TcpServer> {
  const log = new ConnectionLog();
  const server = net.createServer();
  log.attach(server);
  server.on('connection', onSocket);
  await listen(server);
  const t = tracked(server, log);
  return Object.assign(t, { address: `tcp://${HOST}:${t.port}` });
}

/**
 * Accepts connections, reads and discards whatever comes, and never sends a byte: a target that
 * hangs. (It reads so that it sees the client's FIN: a socket never read never ends.)
 */
export function startStallServer(): Promise<TcpServer> {
  return startTcpServer((socket) => socket.resume());
}

/** A loopback port that was listened on and then closed: connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await listen(server);
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Writes `data` in pieces of `chunk` bytes, `delayMs` apart, so that the peer receives them as
 * separate reads. Resolves when the last piece is written; stops early if the socket closes.
 */
export async function trickle(socket: net.Socket, data: Buffer, { chunk = 1, delayMs = 3 } = {}): Promise<void> {
  socket.setNoDelay(true);
  for (let at = 0; at < data.length; at += chunk) {
    if (socket.destroyed) return;
    socket.write(data.subarray(at, at + chunk));
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

/** `[length][payload]` with a `width`-byte length field. */
export function frame(payload: Buffer, { width = 4, endian = 'big', includesHeader = false }: { width?: 1 | 2 | 4; endian?: 'big' | 'little'; includesHeader?: boolean } = {}): Buffer {
  const header = Buffer.alloc(width);
  const len = payload.length + (includesHeader ? width : 0);
  if (width === 1) header.writeUInt8(len);
  else if (width === 2) endian === 'big' ? header.writeUInt16BE(len) : header.writeUInt16LE(len);
  else endian === 'big' ? header.writeUInt32BE(len) : header.writeUInt32LE(len);
  return Buffer.concat([header, payload]);
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpServer extends Tracked {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** An HTTP/1.1 server with keep-alive on; `handler` answers every request. */
export async function startHttpServer(handler: http.RequestListener): Promise<HttpServer> {
  const log = new ConnectionLog();
  const server = http.createServer(handler);
  server.keepAliveTimeout = 30_000;
  log.attach(server);
  await listen(server);
  const t = tracked(server, log, () => server.closeAllConnections());
  return Object.assign(t, { url: `http://${HOST}:${t.port}` });
}

/**
 * Answers every request with its status line, headers and `contentLength` announced, then only
 * the first `bodyBytes` of the body, and destroys the socket: a response cut mid-body.
 */
export async function startHttpCutMidBody({ contentLength = 1000, bodyBytes = 10 } = {}): Promise<HttpServer> {
  const t = await startTcpServer((socket) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${contentLength}\r\n\r\n`);
      socket.write(Buffer.alloc(bodyBytes, 0x61));
      setTimeout(() => socket.destroy(), 20);
    });
  });
  return Object.assign(t, { url: `http://${HOST}:${t.port}` });
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export interface WsServerOptions {
  /** Refuse every upgrade with this HTTP status. */
  refuseWith?: number;
  /** Called for each accepted WebSocket. */
  onConnection?: (ws: WebSocket, req: http.IncomingMessage) => void;
}

export interface WsServer extends Tracked {
  /** `ws://127.0.0.1:<port>/` */
  readonly url: string;
  /** Each upgrade request's URL and headers, in order (refused ones too). */
  readonly upgrades: { url: string; headers: http.IncomingHttpHeaders }[];
  /** Open WebSockets. */
  readonly clients: Set<WebSocket>;
  /** Close codes the server saw, in order (1005: none given, 1006: no close frame). */
  readonly closeCodes: number[];
}

/** A WebSocket server: each connection goes to `onConnection`, or stays silent. Selects the first subprotocol offered. */
export async function startWsServer(options: WsServerOptions = {}): Promise<WsServer> {
  const upgrades: WsServer['upgrades'] = [];
  const closeCodes: number[] = [];
  const http1 = http.createServer((_req, res) => {
    res.statusCode = 426;
    res.end();
  });
  const log = new ConnectionLog();
  log.attach(http1);
  const wss = new WebSocketServer({
    server: http1,
    perMessageDeflate: false,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
    verifyClient: (info, done) => {
      upgrades.push({ url: info.req.url ?? '', headers: info.req.headers });
      if (options.refuseWith) done(false, options.refuseWith);
      else done(true);
    },
  });
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    ws.on('close', (code) => closeCodes.push(code));
    options.onConnection?.(ws, req);
  });
  await listen(http1);
  const t = tracked(http1, log, async () => {
    for (const c of wss.clients) c.terminate();
    http1.closeAllConnections();
    await new Promise((r) => wss.close(r));
  });
  return Object.assign(t, { url: `ws://${HOST}:${t.port}/`, upgrades, clients: wss.clients, closeCodes });
}
