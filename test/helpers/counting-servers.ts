import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Loopback targets whose own counters are the independent count an e2e test compares the
 * report with: what the server received and sent, never what the tool says about itself.
 * Each listens on 127.0.0.1 port 0; `close()` destroys every socket still open.
 */

/**
 * HTTP routes: GET /items/:id → 200 JSON { id, name }; POST /echo → 200, the body back;
 * GET /status/:code → that status, empty body; GET /slow?ms=N → 200 after N ms (≤ 10 s);
 * anything else → 404.
 */
export interface CountingHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Requests received, counted when the request head arrives (before any response). */
  readonly requests: number;
  /** Responses sent, by status code. */
  readonly byStatus: Readonly<Record<number, number>>;
  /** Requests received by `METHOD route` (`GET /items/:id`, `POST /echo`, `GET /status/:code`, …). */
  readonly byRoute: Readonly<Record<string, number>>;
  /**
   * Requests received per user id: the id in `/items/:id`, the `u` query parameter of any
   * request, or the `id` of a POST /echo JSON body (counted once the body has arrived).
   */
  readonly byUser: ReadonlyMap<number, number>;
  /** Responses sent with a status ≥ 400: what the tool counts as `HTTP <status>` errors. */
  errorResponses(): number;
  /** Requests received from users whose id is in [first, last]. */
  requestsFromUsers(first: number, last: number): number;
  close(): Promise<void>;
}

export async function startCountingHttpServer(): Promise<CountingHttpServer> {
  let requests = 0;
  const byStatus: Record<number, number> = {};
  const byRoute: Record<string, number> = {};
  const byUser = new Map<number, number>();
  const seenUser = (id: number) => byUser.set(id, (byUser.get(id) ?? 0) + 1);
  const respond = (res: http.ServerResponse, status: number, body?: string | Buffer) => {
    res.statusCode = status;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const route = url.pathname.replace(/^\/items\/[^/]+$/, '/items/:id').replace(/^\/status\/[^/]+$/, '/status/:code');
    const key = `${req.method} ${route}`;
    byRoute[key] = (byRoute[key] ?? 0) + 1;
    const u = url.searchParams.get('u');
    if (u !== null) seenUser(Number(u));
    if (req.method === 'POST' && url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (u === null) {
          const id = Number((JSON.parse(body.toString('utf8') || '{}') as { id?: unknown }).id);
          if (Number.isInteger(id)) seenUser(id);
        }
        respond(res, 200, body);
      });
      return;
    }
    if (route === '/items/:id') {
      const id = url.pathname.split('/')[2];
      if (u === null && /^\d+$/.test(id)) seenUser(Number(id));
      res.setHeader('content-type', 'application/json');
      return respond(res, 200, JSON.stringify({ id: Number(id), name: 'item' }));
    }
    if (route === '/status/:code') return respond(res, Number(url.pathname.split('/')[2]) || 500);
    if (url.pathname === '/slow') {
      const ms = Math.min(10_000, Number(url.searchParams.get('ms') ?? 100));
      const timer = setTimeout(() => respond(res, 200, 'slow'), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    respond(res, 404, 'not found');
  });
  server.keepAliveTimeout = 60_000;
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    byStatus,
    byRoute,
    byUser,
    errorResponses: () => Object.entries(byStatus).reduce((n, [status, count]) => n + (Number(status) >= 400 ? count : 0), 0),
    requestsFromUsers: (first, last) => [...byUser].reduce((n, [id, count]) => n + (id >= first && id <= last ? count : 0), 0),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** TCP connections as the server saw them. */
export interface CountingTcpServer {
  /** `tcp://127.0.0.1:<port>` */
  readonly url: string;
  /** Connections accepted (every completed handshake the server took, kept or not). */
  readonly accepted: number;
  /** Connections open now (accepted and not yet closed by either side). */
  readonly open: number;
  /** The most connections open at once so far. */
  readonly peakOpen: number;
  /**
   * How long (ms) `open` stayed at `peakOpen` from the last time it got there until the first
   * close after it; undefined while it is still there.
   */
  readonly peakHeldMs: number | undefined;
  /** Connections the server closed itself because it keeps no more than `keep`. */
  readonly closedByServer: number;
  /** Kept connections that the client closed (FIN or reset). */
  readonly closedByClient: number;
  /** Remote addresses connections came from. */
  readonly remotes: ReadonlySet<string>;
  /** Resolves once `open` is 0 and at least `accepted` connections were taken; rejects after `timeoutMs`. */
  allClosed(accepted: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface CountingTcpOptions {
  /**
   * Connections kept open at once: one accepted beyond it is destroyed at once (the client sees
   * its connect succeed, then the close). @default Infinity
   */
  keep?: number;
}

/** A TCP target that reads and drops what comes and counts its sockets. */
export async function startCountingTcpServer(o: CountingTcpOptions = {}): Promise<CountingTcpServer> {
  const keep = o.keep ?? Infinity;
  const sockets = new Set<net.Socket>();
  const remotes = new Set<string>();
  let accepted = 0;
  let peakOpen = 0;
  let peakAt = 0;
  let peakHeldMs: number | undefined;
  let closedByServer = 0;
  let closedByClient = 0;
  let waiters: (() => void)[] = [];
  const notify = () => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };
  const server = net.createServer((s) => {
    accepted++;
    remotes.add(s.remoteAddress!);
    // A client that resets is expected here; the server must not crash the test process.
    s.on('error', () => {});
    if (sockets.size >= keep) {
      closedByServer++;
      s.destroy();
      notify();
      return;
    }
    sockets.add(s);
    if (sockets.size >= peakOpen) {
      peakOpen = sockets.size;
      peakAt = performance.now();
      peakHeldMs = undefined;
    }
    s.resume();
    s.on('close', () => {
      if (sockets.size === peakOpen && peakHeldMs === undefined && sockets.has(s)) peakHeldMs = performance.now() - peakAt;
      if (sockets.delete(s)) closedByClient++;
      notify();
    });
    notify();
  });
  await listen(server);
  let closing = false;
  return {
    url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get peakOpen() {
      return peakOpen;
    },
    get peakHeldMs() {
      return peakHeldMs;
    },
    get closedByServer() {
      return closedByServer;
    },
    get closedByClient() {
      return closedByClient;
    },
    remotes,
    allClosed(n, timeoutMs = 5000) {
      const done = () => accepted >= n && sockets.size === 0;
      if (done()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server: ${sockets.size} connection(s) still open, ${accepted} accepted, after ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (!done()) return void waiters.push(check);
          clearTimeout(timer);
          resolve();
        };
        waiters.push(check);
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      // Test teardown: what it destroys is not counted as closed by the client.
      const left = [...sockets];
      sockets.clear();
      for (const s of left) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
