import * as http from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import { armedCount } from '../../../worker/protocols/deadlines';
import type { WsConnection, WsReconnectInfo } from '../../../worker/protocols/ws';
import { createTestRuntime, latency, type TestRuntime } from '../../helpers/runtime';
import { HOST } from '../../helpers/servers';

/**
 * WebSocket realism: heartbeats, random disconnects, reconnection with backoff and full jitter.
 * The servers here are killed and restarted on the same port, which the shared helpers do not
 * do: `startServer` is a plain `ws` server on 127.0.0.1, closed in afterEach.
 */

interface Server {
  readonly port: number;
  readonly url: string;
  /** Connections accepted so far. */
  accepted: number;
  readonly clients: Set<WebSocket>;
  /** Close codes seen, in order (1006: the peer vanished without a close frame). */
  readonly closeCodes: number[];
  /** Drops every connection without a close frame and stops listening: a crashed server. */
  kill(): Promise<void>;
}

interface ServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** Answer protocol pings. @default true */
  autoPong?: boolean;
  /** Each accepted connection, numbered from 1 for this server. */
  onConnection?: (ws: WebSocket, n: number, req: http.IncomingMessage) => void;
}

const servers = new Set<Server>();

async function startServer({ port = 0, autoPong = true, onConnection }: ServerOptions = {}): Promise<Server> {
  const httpServer = http.createServer((_req, res) => {
    res.statusCode = 426;
    res.end();
  });
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, autoPong });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, HOST, () => resolve());
  });
  const actual = (httpServer.address() as AddressInfo).port;
  let killed: Promise<void> | undefined;
  const server: Server = {
    port: actual,
    url: `ws://${HOST}:${actual}/`,
    accepted: 0,
    clients: wss.clients,
    closeCodes: [],
    kill() {
      servers.delete(server);
      return (killed ??= (async () => {
        for (const c of wss.clients) c.terminate();
        httpServer.closeAllConnections();
        await new Promise((r) => wss.close(r));
        await new Promise((r) => httpServer.close(r));
      })());
    },
  };
  wss.on('connection', (ws, req) => {
    const n = ++server.accepted;
    ws.on('error', () => {});
    ws.on('close', (code) => server.closeCodes.push(code));
    onConnection?.(ws, n, req);
  });
  servers.add(server);
  return server;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `done` every 5 ms; fails naming `what` after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

let rt: TestRuntime | undefined;

afterEach(async () => {
  await rt?.close();
  rt = undefined;
  await Promise.all([...servers].map((s) => s.kill()));
});

describe('heartbeats', () => {
  test('protocol pings keep going; a server that stops answering is found dead (ETIMEDOUT once) and the same connection reconnects', async () => {
    let answering = true;
    const server = await startServer({
      autoPong: false,
      onConnection: (ws, n) => {
        // The first connection answers until told to stop; the second always does, and greets.
        ws.on('ping', (data) => (n > 1 || answering) && ws.pong(data));
        if (n === 2) ws.send('welcome back');
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect(undefined, { heartbeat: { interval: '100ms', timeout: '150ms' }, reconnect: { base: '20ms', cap: '50ms' } });
    // A wait made before the drop is answered by the connection after it.
    const greeting = conn.waitFor((m) => m.text() === 'welcome back', { timeout: '3s', name: 'greeting' });

    await sleep(470);
    let snap = rt.snapshot();
    const beats = latency(snap, 'ws.heartbeat');
    expect(beats?.count).toBeGreaterThanOrEqual(3);
    expect(beats?.count).toBeLessThanOrEqual(5);
    expect(beats!.maxMs).toBeLessThan(100);
    expect(snap.counters['ws.heartbeats']).toBe(beats?.count);
    expect(snap.errors).toEqual({});

    const reconnected = new Promise<WsReconnectInfo>((r) => conn.onReconnect(r));
    const t0 = performance.now();
    answering = false;
    const info = await reconnected;
    // The next ping goes out within 100 ms, then 150 ms without a pong, then at most 20 ms of jitter.
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(600);
    expect(info.attempts).toBe(1);
    expect((await greeting).text()).toBe('welcome back');
    expect(conn.isOpen).toBe(true);
    expect(server.accepted).toBe(2);
    expect(server.closeCodes).toEqual([1006]); // the client dropped the dead connection without ceremony

    snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.counters).toMatchObject({ 'ws.reconnects': 1, 'ws.reconnect_attempts': 1 });
    expect(latency(snap, 'ws.reconnect')?.count).toBe(1);
    expect(snap.gauges).toMatchObject({ connections: 1 });

    // The heartbeat goes on over the new socket.
    await sleep(250);
    snap = rt.snapshot();
    expect(latency(snap, 'ws.heartbeat')?.count).toBeGreaterThanOrEqual(2);
    expect(snap.errors).toEqual({});
  });

  test('without reconnect a dead connection closes: its pending waits fail with the one ETIMEDOUT', async () => {
    const server = await startServer({ autoPong: false });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect(undefined, { heartbeat: { interval: '50ms', timeout: '80ms' } });
    const waits = [conn.waitFor(() => false, { timeout: '3s' }), conn.waitFor(() => false, { timeout: '3s' })].map((p) => p.catch((e: unknown) => e));

    const [a, b] = await Promise.all(waits);
    expect((a as LoadError).code).toBe('ETIMEDOUT');
    expect((a as LoadError).message).toMatch(/heartbeat.*no pong within 80 ms/);
    expect(b).toBe(a);
    expect(conn.isOpen).toBe(false);
    await until(() => server.closeCodes.length === 1, 'the server sees the close');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.gauges.connections).toBe(0);
    expect(snap.counters['ws.reconnect_attempts']).toBeUndefined();
  });

  test('app-level heartbeats reach the server at the interval; replies matched by expect are timed and kept from waitFor', async () => {
    const arrivals = new Map<number, number[]>();
    const server = await startServer({
      onConnection: (ws, n) => {
        arrivals.set(n, []);
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as { type: string; ack?: boolean };
          if (msg.type !== 'hb') return;
          arrivals.get(n)!.push(performance.now());
          if (msg.ack) ws.send(JSON.stringify({ type: 'hb-ack' }));
        });
      },
    });
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    // One connection fires and forgets; the other expects an answer to each heartbeat.
    const quiet = await u.ws.connect(undefined, { heartbeat: { interval: '100ms', message: { type: 'hb' } } });
    const acked = await u.ws.connect(undefined, { heartbeat: { interval: '100ms', message: { type: 'hb', ack: true }, expect: (m) => m.json<{ type: string }>().type === 'hb-ack', timeout: '80ms' } });
    const seenByListener: string[] = [];
    acked.onMessage((m) => seenByListener.push(m.text()));
    await sleep(660);

    for (const n of [1, 2]) {
      const times = arrivals.get(n)!;
      expect(times.length).toBeGreaterThanOrEqual(5);
      expect(times.length).toBeLessThanOrEqual(7);
      for (let i = 1; i < times.length; i++) {
        expect(times[i] - times[i - 1]).toBeGreaterThan(60);
        expect(times[i] - times[i - 1]).toBeLessThan(140);
      }
    }
    const arrivedAtCount = arrivals.get(1)!.length + arrivals.get(2)!.length;
    const snap = rt.snapshot();
    const answered = latency(snap, 'ws.heartbeat');
    expect(answered?.count).toBeGreaterThanOrEqual(5); // only the acked connection's round trips
    expect(answered?.count).toBeLessThanOrEqual(arrivals.get(2)!.length);
    // Heartbeats go on: the server has at least those that arrived before the count was taken,
    // and soon every one counted (none counted that never went out).
    const arrived = () => arrivals.get(1)!.length + arrivals.get(2)!.length;
    const counted = snap.counters['ws.heartbeats'];
    // Counted as sent: every one the server had, plus at most one on the wire per connection.
    expect(counted).toBeGreaterThanOrEqual(arrivedAtCount);
    expect(counted).toBeLessThanOrEqual(arrivedAtCount + 2);
    await until(() => arrived() >= counted, 'every heartbeat counted reaches the server');
    expect(seenByListener.length).toBe(answered?.count);
    expect(snap.errors).toEqual({});
    // The acks went to the heartbeat, not the inbox.
    const err = await acked.waitFor((m) => m.text().includes('hb-ack'), { timeout: '30ms' }).catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect(quiet.isOpen && acked.isOpen).toBe(true);
  });
});

describe('random disconnects', () => {
  test('the same seed gives the same disconnect times; another seed other times', async () => {
    // Lifetimes as the server sees them, per client tag.
    const lifetimes = new Map<string, number[]>();
    const server = await startServer({
      onConnection: (ws, _n, req) => {
        const who = new URL(req.url ?? '/', 'http://x').searchParams.get('who')!;
        const opened = performance.now();
        ws.on('close', () => {
          const list = lifetimes.get(who) ?? [];
          list.push(performance.now() - opened);
          lifetimes.set(who, list);
        });
      },
    });
    rt = createTestRuntime({ target: server.url });
    // Intervals long against a busy machine's timer jitter (tens of ms), so that "the same" and
    // "another" seed stay apart by a wide margin.
    const options = { randomDisconnect: { meanInterval: '600ms' }, reconnect: { base: '5ms', cap: '10ms' } };
    // Users A and B are the same user of the same run; C is that user under another seed.
    const users = { A: rt.user({ id: 3, seed: 7 }), B: rt.user({ id: 3, seed: 7 }), C: rt.user({ id: 3, seed: 8 }) };
    await Promise.all(Object.entries(users).map(([who, u]) => u.ws.connect(`${server.url}?who=${who}`, options)));
    await sleep(4000);
    const snap = rt.snapshot();

    const [a, b, c] = (['A', 'B', 'C'] as const).map((who) => lifetimes.get(who) ?? []);
    const n = Math.min(a.length, b.length);
    expect(n).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < n; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(150);
    const m = Math.min(a.length, c.length);
    expect(a.slice(0, m).some((t, i) => Math.abs(t - c[i]) > 150)).toBe(true);
    // Every close was the client's own, with a close frame, and each was followed by a reconnect.
    const disconnects = snap.counters['ws.random_disconnects'];
    await until(() => server.closeCodes.length >= disconnects, 'the server sees the last close'); // one may be on the wire
    expect(server.closeCodes.slice(0, disconnects)).toEqual(Array(disconnects).fill(1000));
    expect(server.closeCodes.length).toBe(disconnects);
    // Each drop came back (one per user may still be on its way).
    expect(snap.counters['ws.reconnects']).toBeGreaterThanOrEqual(snap.counters['ws.random_disconnects'] - 3);
    expect(snap.counters['ws.reconnects']).toBeLessThanOrEqual(snap.counters['ws.random_disconnects']);
    expect(snap.errors).toEqual({});
  });
});

describe('reconnection', () => {
  test('reconnect storm: 50 connections, the server crashes and is back on the same port 500 ms later: all 50 come back, spread by jitter', async () => {
    const first = await startServer();
    const port = first.port;
    rt = createTestRuntime({ target: first.url });
    setMaxListeners(0, rt.controller.signal); // as the worker does: one abort listener per connection reconnecting
    const reconnect = { base: '100ms', cap: '1s', maxAttempts: 20 };
    const conns = await Promise.all(Array.from({ length: 50 }, (_, i) => rt!.user({ id: i + 1 }).ws.connect(undefined, { reconnect })));
    await until(() => first.accepted === 50, 'the first server accepts 50');
    rt.snapshot(); // the connects

    const killedAt = performance.now();
    await first.kill();
    await until(() => conns.every((c) => c.isReconnecting), 'every client notices the crash');
    const allNoticedAt = performance.now();
    expect(rt.snapshot().gauges.connections).toBe(0);
    await sleep(500 - (performance.now() - killedAt));
    const restartAt = performance.now();
    const second = await startServer({ port });
    await until(() => conns.every((c) => c.isOpen), 'all 50 back', 4000);

    const snap = rt.snapshot();
    expect(second.accepted).toBe(50);
    expect(first.accepted + second.accepted).toBe(100);
    expect(snap.counters['ws.reconnects']).toBe(50);
    // Two attempts at least each: the first two windows (100 ms, 200 ms) end before the restart.
    expect(snap.counters['ws.reconnect_attempts']).toBeGreaterThanOrEqual(100);
    const downtime = latency(snap, 'ws.reconnect')!;
    expect(downtime.count).toBe(50);
    // Down from its drop (at the latest when all had noticed) until the restart, at least.
    // A 500 ms wait, less the 1-2 ms by which Node's timers may fire early against performance.now().
    expect(restartAt - killedAt).toBeGreaterThanOrEqual(498);
    expect(downtime.minMs).toBeGreaterThanOrEqual(restartAt - allNoticedAt - 1);
    expect(downtime.minMs).toBeGreaterThan(400);
    expect(downtime.maxMs).toBeLessThan(2600);
    // Full jitter spreads the herd: the comebacks are not one wave.
    expect(downtime.maxMs - downtime.minMs).toBeGreaterThan(100);
    // Failed attempts are not errors, and the gauge is exact again.
    expect(snap.errors).toEqual({});
    expect(snap.gauges.connections).toBe(50);
  });

  test('the same object comes back: sends made while down go out after onReconnect, in order; a request made while down is answered', async () => {
    const echo = (ws: WebSocket, _n: number) => ws.on('message', (data) => ws.send(`re:${data.toString()}`));
    const first = await startServer({ onConnection: echo });
    rt = createTestRuntime({ target: first.url });
    const conn = await rt.user().ws.connect(undefined, { reconnect: { base: '50ms', cap: '100ms' } });
    conn.onReconnect(() => void conn.send('auth'));
    await first.kill();
    await until(() => conn.isReconnecting, 'the client notices');

    const sends = [conn.send('queued-1'), conn.send('queued-2')];
    const reply = conn.request('question', (m) => m.text() === 're:question', { name: 'question', timeout: '3s' });
    await sleep(200);
    const received: string[] = [];
    await startServer({
      port: first.port,
      onConnection: (ws, n) => {
        echo(ws, n);
        ws.on('message', (data) => received.push(data.toString()));
      },
    });
    await Promise.all(sends);
    expect((await reply).text()).toBe('re:question');
    expect(received).toEqual(['auth', 'queued-1', 'queued-2', 'question']);
    const snap = rt.snapshot();
    // The exchange counts from the send, reconnection included.
    expect(latency(snap, 'ws.question')!.minMs).toBeGreaterThanOrEqual(190);
    expect(snap.errors).toEqual({});
  });

  test('giving up: after maxAttempts the last code is counted once per connection; pending waits and queued sends fail with it', async () => {
    const server = await startServer();
    rt = createTestRuntime({ target: server.url });
    const conns: WsConnection[] = await Promise.all(Array.from({ length: 5 }, (_, i) => rt!.user({ id: i + 1 }).ws.connect(undefined, { reconnect: { base: '10ms', cap: '40ms', maxAttempts: 4 } })));
    const waits = conns.map((c) => c.waitFor(() => false, { timeout: '5s' }).catch((e: unknown) => e));
    await server.kill();
    await until(() => conns.every((c) => c.isReconnecting), 'every client notices');
    const sends = conns.map((c) => c.send('lost').catch((e: unknown) => e));

    const failures = await Promise.all(waits);
    for (const err of failures) {
      expect(err).toBeInstanceOf(LoadError);
      expect((err as LoadError).code).toBe('ECONNREFUSED');
      expect((err as LoadError).message).toMatch(/gave up after 4 attempts/);
    }
    expect(await Promise.all(sends)).toEqual(failures);
    expect(conns.every((c) => !c.isOpen && !c.isReconnecting)).toBe(true);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNREFUSED: 5 });
    expect(snap.counters).toMatchObject({ 'ws.reconnect_failed': 5, 'ws.reconnect_attempts': 20 });
    expect(snap.counters['ws.reconnects']).toBeUndefined();
    expect(snap.gauges.connections).toBe(0);
    // Closed for good now: a send throws, counted, as on any closed connection.
    expect(() => conns[0].send('after')).toThrow(LoadError);
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 1 });
  });

  test.each([
    // A user ending with a wait pending: nothing failed. The run cutting it: the wait was in flight.
    ['the user ends (scope destroyed)', (t: TestRuntime, u: { scope: { closeAll(): void } }) => u.scope.closeAll(), {}],
    ['the run is cut (signal aborted)', (t: TestRuntime) => t.controller.abort(), { CUT_IN_FLIGHT: 1 }],
  ])('reconnection stops when %s: no attempt after it, no timer left, the gauge exact', async (_when, stop, errors) => {
    const server = await startServer();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const conn = await u.ws.connect(undefined, { heartbeat: { interval: '1s' }, randomDisconnect: { meanInterval: '1h' }, reconnect: { base: '200ms', cap: '1s', maxAttempts: Infinity } });
    const pending = conn.waitFor(() => false, { timeout: '5s' }).catch((e: unknown) => e);
    await server.kill();
    await until(() => conn.isReconnecting, 'the client notices');
    await sleep(250);

    // Counted around the synchronous stop, so that nothing else runs in between: the reconnection's
    // timer (its backoff, or its handshake in flight) goes, and the pending wait's deadline leaves
    // the worker's deadline list.
    const before = timeouts();
    const armedBefore = armedCount();
    stop(rt, u);
    expect(timeouts()).toBe(before - 1);
    expect(armedCount()).toBe(armedBefore - 1);
    expect(conn.isReconnecting).toBe(false);
    const ended = await pending;
    if (Object.keys(errors).length === 0) expect(ended).toBeInstanceOf(StopError);
    else expect(ended).toMatchObject({ code: 'CUT_IN_FLIGHT' });
    const first = rt.snapshot();
    const attempts = first.counters['ws.reconnect_attempts'] ?? 0;
    await sleep(300);
    const snap = rt.snapshot();
    expect(snap.counters['ws.reconnect_attempts']).toBeUndefined(); // none since the stop
    expect(attempts).toBeLessThanOrEqual(3);
    expect(first.errors).toEqual(errors);
    expect(snap.errors).toEqual({});
    expect(snap.gauges.connections).toBe(0);
  });
});

describe('without the options', () => {
  test('a plain connection carries none of their state; bad options are refused before dialling, every problem named', async () => {
    const server = await startServer();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const plain = await u.ws.connect();
    // None of the heartbeat / disconnect / reconnect state exists on it (white-box: no object, no closures, no timers).
    expect((plain as unknown as { live?: unknown }).live).toBeUndefined();
    expect(plain.isReconnecting).toBe(false);
    plain.onReconnect(() => {
      throw new Error('never called without reconnect');
    });

    const err = await u.ws
      .connect(undefined, { heartbeat: { interval: 'often', expect: () => true }, randomDisconnect: { meanInterval: 0 }, reconnect: { maxAttempts: 0 } })
      .catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('EINVALIDOPTION');
    expect((err as LoadError).message).toContain(`heartbeat.interval: expected a duration above 0 like '500ms' or '10s', received "often"`);
    expect((err as LoadError).message).toContain('heartbeat.expect: needs heartbeat.message');
    expect((err as LoadError).message).toContain('randomDisconnect.meanInterval');
    expect((err as LoadError).message).toContain('reconnect.maxAttempts');
    expect(server.accepted).toBe(1);
    expect(rt.snapshot().errors).toEqual({ EINVALIDOPTION: 1 });
  });
});
