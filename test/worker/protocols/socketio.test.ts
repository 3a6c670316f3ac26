import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import { createSocketIoClient, type SocketIoClient } from '../../../worker/protocols/socketio';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, HOST, refusedPort, startStallServer } from '../../helpers/servers';

/**
 * A real Socket.IO 4 server on 127.0.0.1 port 0 that records, per namespace, the sockets that
 * connected and why each left. Closed (every client dropped) in afterEach.
 */
interface IoServerOptions {
  /** Namespaces served; any other is refused by socket.io itself. @default ['/'] */
  namespaces?: string[];
  /** Namespace middleware, on every namespace. */
  use?: (socket: ServerSocket, next: (err?: Error) => void) => void;
  /** Called for every socket that connects, in any namespace. */
  onConnection?: (socket: ServerSocket, io: Server) => void;
}

interface IoServer {
  readonly io: Server;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Sockets connected so far, in order, in any namespace. */
  readonly sockets: ServerSocket[];
  /** Disconnect reasons as the server saw them, in order. */
  readonly disconnects: string[];
  close(): Promise<void>;
}

const ioServers = new Set<IoServer>();

async function startIoServer(options: IoServerOptions = {}): Promise<IoServer> {
  const http = createServer();
  const io = new Server(http);
  const sockets: ServerSocket[] = [];
  const disconnects: string[] = [];
  for (const name of options.namespaces ?? ['/']) {
    const nsp = io.of(name);
    if (options.use) nsp.use(options.use);
    nsp.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('disconnect', (reason) => disconnects.push(reason));
      options.onConnection?.(socket, io);
    });
  }
  await new Promise<void>((resolve) => http.listen(0, HOST, resolve));
  const port = (http.address() as AddressInfo).port;
  const server: IoServer = {
    io,
    url: `http://${HOST}:${port}`,
    port,
    sockets,
    disconnects,
    async close() {
      ioServers.delete(server);
      http.closeAllConnections();
      await io.close();
    },
  };
  ioServers.add(server);
  return server;
}

/** Resolves once `done()` holds; rejects after `timeoutMs` naming `what`. */
async function until(done: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rt: TestRuntime;

/** A fresh user's `u.socketio`, closed with the runtime. */
function client(id = 1): SocketIoClient {
  return createSocketIoClient(rt.user({ id }).scope);
}

afterEach(async () => {
  await rt?.close();
  await Promise.all([...ioServers].map((s) => s.close()));
  await closeServers();
});

describe('u.socketio connecting', () => {
  test('connect joins the default namespace over websocket, timed as socketio.connect, one open connection', async () => {
    const server = await startIoServer();
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();

    expect(conn.isConnected).toBe(true);
    await until(() => server.sockets.length === 1, 'the server sees the socket');
    expect(server.sockets[0].nsp.name).toBe('/');
    expect(server.sockets[0].conn.transport.name).toBe('websocket');
    expect(conn.id).toBe(server.sockets[0].id);
    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['socketio.connect']);
    expect(latency(snap, 'socketio.connect')?.count).toBe(1);
    expect(snap.ops).toBe(1);
    expect(snap.errors).toEqual({});
    expect(snap.gauges).toMatchObject({ connections: 1, connectionsMax: 1 });
  });

  test('a ws:// target works the same', async () => {
    const server = await startIoServer();
    rt = createTestRuntime({ target: `ws://${HOST}:${server.port}/` });
    const conn = await client().connect();
    expect(conn.isConnected).toBe(true);
    await until(() => server.sockets.length === 1, 'the server sees the socket');
  });

  test('namespace by option or by the URL path; auth, query and headers reach the server', async () => {
    const seen: { nsp: string; auth: unknown; query: unknown; device: unknown }[] = [];
    const server = await startIoServer({
      namespaces: ['/', '/chat', '/admin'],
      use: (socket, next) => {
        seen.push({ nsp: socket.nsp.name, auth: socket.handshake.auth, query: socket.handshake.query, device: socket.handshake.headers['x-device'] });
        next();
      },
    });
    rt = createTestRuntime({ target: server.url });
    const io = client(42);
    const chat = await io.connect(undefined, { namespace: '/chat', auth: { token: 'user-42' }, query: { room: 'r7' }, headers: { 'x-device': 'd-42' } });
    const admin = await io.connect(`${server.url}/admin?v=2`, { query: { role: 'ops' } });

    await until(() => server.sockets.length === 2, 'both sockets connected');
    expect(server.sockets.map((s) => s.nsp.name)).toEqual(['/chat', '/admin']);
    expect(seen[0]).toMatchObject({ nsp: '/chat', auth: { token: 'user-42' }, query: { room: 'r7' }, device: 'd-42' });
    expect(seen[1]).toMatchObject({ nsp: '/admin', auth: {}, query: { v: '2', role: 'ops' } });
    expect(chat.id).toBe(server.sockets[0].id);
    expect(admin.id).toBe(server.sockets[1].id);
    // One Manager (one Engine.IO connection) per connection: nothing is multiplexed.
    expect(server.sockets[0].conn).not.toBe(server.sockets[1].conn);
    const snap = rt.snapshot();
    expect(latency(snap, 'socketio.connect')?.count).toBe(2);
    expect(snap.gauges).toMatchObject({ connections: 2, connectionsMax: 2 });
  });

  test("the server's middleware refusing: SOCKETIO_CONNECT_ERROR with its message, counted once, no connection", async () => {
    const server = await startIoServer({
      use: (socket, next) => (socket.handshake.auth.token === 'good' ? next() : next(new Error('unauthorized: bad token'))),
    });
    rt = createTestRuntime({ target: server.url });
    const ok = await client(1).connect(undefined, { auth: { token: 'good' } });
    const err = await client(2).connect(undefined, { auth: { token: 'stolen' } }).catch((e: unknown) => e);

    expect(ok.isConnected).toBe(true);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('SOCKETIO_CONNECT_ERROR');
    expect((err as LoadError).recorded).toBe(true);
    expect((err as LoadError).message).toContain('unauthorized: bad token');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ SOCKETIO_CONNECT_ERROR: 1 });
    expect(snap.ops).toBe(2);
    expect(latency(snap, 'socketio.connect')?.count).toBe(1);
    expect(snap.gauges).toMatchObject({ connections: 1, connectionsMax: 1 });
    // The refused client closed its transport: only the accepted one is left on the server.
    await until(() => server.io.engine.clientsCount === 1, 'the refused transport closed');
  });

  test('an unknown namespace: SOCKETIO_CONNECT_ERROR', async () => {
    const server = await startIoServer();
    rt = createTestRuntime({ target: server.url });
    const err = await client().connect(undefined, { namespace: 'nowhere' }).catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('SOCKETIO_CONNECT_ERROR');
    expect((err as LoadError).message).toContain('Invalid namespace');
    expect(rt.snapshot().errors).toEqual({ SOCKETIO_CONNECT_ERROR: 1 });
  });

  test.each([['websocket'], ['polling']] as const)('a refused connection over %s: ECONNREFUSED', async (transport) => {
    const port = await refusedPort();
    rt = createTestRuntime({ target: `http://${HOST}:${port}` });
    const err = await client().connect(undefined, { transports: [transport] }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNREFUSED');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNREFUSED: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.gauges.connectionsMax).toBe(0);
  });

  test('a handshake that never completes: ETIMEDOUT after the connect timeout; the socket is closed', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}` });
    const t0 = performance.now();
    const err = await client().connect(undefined, { timeout: '300ms' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    await server.closedAtLeast(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.gauges.connectionsMax).toBe(0);
  });

  test('a middleware that never answers: ETIMEDOUT; the transport that did open is closed', async () => {
    const server = await startIoServer({ use: () => {} });
    rt = createTestRuntime({ target: server.url });
    const err = await client().connect(undefined, { timeout: '300ms' }).catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect((err as LoadError).message).toContain('not connected within 300 ms');
    await until(() => server.io.engine.clientsCount === 0, 'the transport closed');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.gauges.connectionsMax).toBe(0);
  });

  test('a target that is not http(s) or ws(s): EINVALIDURL before any socket', async () => {
    rt = createTestRuntime({ target: 'tcp://127.0.0.1:7000' });
    const err = await client().connect().catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('EINVALIDURL');
    expect(rt.snapshot().errors).toEqual({ EINVALIDURL: 1 });
  });

  test('the user ending mid-handshake: StopError, nothing counted, the socket closed', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}` });
    const u = rt.user();
    const pending = createSocketIoClient(u.scope).connect().catch((e: unknown) => e);
    await server.acceptedAtLeast(1);
    u.scope.closeAll();

    expect(await pending).toBeInstanceOf(StopError);
    await server.closedAtLeast(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({});
    expect(snap.ops).toBe(0);
  });
});

describe('u.socketio exchanging events', () => {
  test('ack resolves with the acknowledgement arguments, timed as socketio.ack <event> or by name', async () => {
    const server = await startIoServer({
      onConnection: (socket) => socket.on('join', (room: string, cb: (...a: unknown[]) => void) => cb({ ok: true, room }, 2)),
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const reply = await conn.ack<[{ ok: boolean; room: string }, number]>('join', ['lobby']);
    const named = await conn.ack('join', ['kitchen'], { name: 'joined' });

    expect(reply).toEqual([{ ok: true, room: 'lobby' }, 2]);
    expect(named).toEqual([{ ok: true, room: 'kitchen' }, 2]);
    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['socketio.ack join', 'socketio.connect', 'socketio.joined']);
    expect(latency(snap, 'socketio.ack join')?.count).toBe(1);
    expect(snap.ops).toBe(3);
    expect(snap.errors).toEqual({});
  });

  test('an ack that never comes: ETIMEDOUT, counted once; the connection stays usable', async () => {
    const server = await startIoServer({
      onConnection: (socket) => {
        socket.on('ignored', () => {});
        socket.on('join', (_room: string, cb: (r: string) => void) => cb('ok'));
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const t0 = performance.now();
    const err = await conn.ack('ignored', [1], { timeout: '200ms' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect(await conn.ack('join', ['lobby'])).toEqual(['ok']);
    await sleep(100);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(3); // connect, the timed-out ack, the answered one
    expect(metricNames(snap)).toEqual(['socketio.ack join', 'socketio.connect']);
  });

  test('request is timed from the emit to the matching response; unmatched responses stay for later waits', async () => {
    const server = await startIoServer({
      onConnection: (socket) =>
        socket.on('ping', (n: number) => {
          socket.emit('pong', n + 1000); // an unrelated pong first
          setTimeout(() => socket.emit('pong', n), 60);
        }),
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    rt.snapshot(); // leave the connect out of what follows

    const [n] = await conn.request<[number]>('ping', [7], 'pong', (v) => v === 7);
    expect(n).toBe(7);
    const [other] = await conn.waitFor<[number]>('pong', { name: 'stray' });
    expect(other).toBe(1007);
    const snap = rt.snapshot();
    expect(latency(snap, 'socketio.pong')?.count).toBe(1);
    expect(latency(snap, 'socketio.pong')!.minMs).toBeGreaterThanOrEqual(55);
    expect(latency(snap, 'socketio.stray')?.count).toBe(1);
    expect(snap.counters).toEqual({ 'socketio.emit ping': 1, 'socketio.received pong': 2 });
    expect(snap.ops).toBe(2);
  });

  test('waitFor is timed from the last emit, not from when it was called', async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('ping', () => setTimeout(() => socket.emit('pong'), 80)) });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    conn.emit('ping');
    await sleep(40);
    const t0 = performance.now();
    await conn.waitFor('pong', { name: 'reply' });
    const waited = performance.now() - t0;

    const snap = rt.snapshot();
    expect(waited).toBeLessThan(70);
    expect(latency(snap, 'socketio.reply')!.minMs).toBeGreaterThanOrEqual(75);
    // The emit was claimed: a second wait is timed from its own call.
    conn.emit('ping');
    await conn.waitFor('pong');
    await sleep(100);
    const t1 = performance.now();
    const late = conn.waitFor('pong', { timeout: '300ms' }).catch((e: unknown) => e);
    conn.emit('ping');
    await late;
    expect(performance.now() - t1).toBeGreaterThanOrEqual(75);
  });

  test('an event that arrived before the wait resolves it at once; the inbox keeps the newest per event', async () => {
    const server = await startIoServer({
      onConnection: (socket) => {
        socket.emit('welcome', { motd: 'hi' });
        for (let i = 1; i <= 5; i++) socket.emit('tick', i);
        socket.emit('done');
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect(undefined, { inbox: 3 });
    await conn.waitFor('done'); // events arrive in order: the rest are in the inbox by now

    const t0 = performance.now();
    const [welcome] = await conn.waitFor('welcome', { timeout: '1s' });
    expect(performance.now() - t0).toBeLessThan(20);
    expect(welcome).toEqual({ motd: 'hi' });
    const ticks = [];
    for (let i = 0; i < 3; i++) ticks.push((await conn.waitFor<[number]>('tick'))[0]);
    expect(ticks).toEqual([3, 4, 5]);
    const snap = rt.snapshot();
    expect(snap.counters).toEqual({ 'socketio.received welcome': 1, 'socketio.received tick': 5, 'socketio.received done': 1, 'socketio.inbox_dropped': 2 });
  });

  test('payload bytes are the Engine.IO message payloads both ways', async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('echo', (v: unknown, cb: (v: unknown) => void) => cb(v)) });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    rt.snapshot();
    conn.emit('hello', { a: 1 });
    await conn.ack('echo', ['é']);

    // EVENT 2, then the ack id 0, then the JSON array; the ack comes back as ACK 3 with id 0.
    const sent = Buffer.byteLength('2["hello",{"a":1}]') + Buffer.byteLength('20["echo","é"]');
    const received = Buffer.byteLength('30["é"]');
    expect(rt.snapshot().bytes).toEqual({ sent, received });
  });

  test('on() sees every event; events with a listener are not kept in the inbox', async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('go', () => [1, 2, 3].forEach((i) => socket.emit('news', i))) });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const seen: number[] = [];
    conn.on('news', (i: number) => seen.push(i));
    const [first] = await conn.request<[number]>('go', [], 'news');
    await until(() => seen.length === 3, 'three news');

    expect(first).toBe(1);
    expect(seen).toEqual([1, 2, 3]);
    const err = await conn.waitFor('news', { timeout: '100ms' }).catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
  });

  test('a listener that throws is counted by its code; the connection and the worker go on', async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('go', () => [1, 2].forEach((i) => socket.emit('news', i))) });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const seen: number[] = [];
    conn.on('news', (i: number) => {
      seen.push(i);
      if (i === 1) throw new RangeError('the listener broke');
    });
    conn.emit('go');
    await until(() => seen.length === 2, 'both news');

    expect(conn.isConnected).toBe(true);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ RangeError: 1 });
    expect(snap.counters).toEqual({ 'socketio.emit go': 1, 'socketio.received news': 2 });
  });

  test('a predicate that throws fails its wait with that error, counted once', async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('go', () => socket.emit('data', null)) });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const err = await conn.request<[{ id: number }]>('go', [], 'data', (d) => d.id === 1, { timeout: '2s' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('TypeError');
    expect(rt.snapshot().errors).toEqual({ TypeError: 1 });
  });

  test('broadcasts: 20 connections in a room, 5 messages, each connection counts 5, socketio.received news = 100', async () => {
    const server = await startIoServer({
      onConnection: (socket) =>
        socket.on('join', (room: string, cb: (ok: boolean) => void) => {
          void socket.join(room);
          cb(true);
        }),
    });
    rt = createTestRuntime({ target: server.url });
    const perConnection = new Array<number>(20).fill(0);
    await Promise.all(
      perConnection.map(async (_, i) => {
        const conn = await client(i + 1).connect(undefined, { auth: { user: i + 1 } });
        conn.on('news', () => perConnection[i]++);
        expect(await conn.ack('join', ['room-1'])).toEqual([true]);
      }),
    );
    expect(server.io.sockets.adapter.rooms.get('room-1')?.size).toBe(20);
    rt.snapshot();
    for (let m = 1; m <= 5; m++) server.io.to('room-1').emit('news', { m, text: `message ${m}` });
    await until(() => perConnection.every((n) => n === 5), 'every connection got 5');

    expect(perConnection).toEqual(new Array(20).fill(5));
    const snap = rt.snapshot();
    expect(snap.counters).toEqual({ 'socketio.received news': 100 });
    const one = Buffer.byteLength(`2["news",{"m":1,"text":"message 1"}]`);
    expect(snap.bytes).toEqual({ sent: 0, received: 100 * one });
    expect(snap.gauges.connections).toBe(20);
  });

  test('the polling transport: connects over long-polling, acks and pushes work', async () => {
    const server = await startIoServer({
      onConnection: (socket) => socket.on('join', (room: string, cb: (r: string) => void) => {
        cb(`joined ${room}`);
        socket.emit('news', 'first');
      }),
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect(undefined, { transports: ['polling'], headers: { 'x-device': 'd-1' } });
    expect(await conn.ack('join', ['lobby'])).toEqual(['joined lobby']);
    expect(await conn.waitFor('news')).toEqual(['first']);

    expect(server.sockets[0].conn.transport.name).toBe('polling');
    expect(server.sockets[0].handshake.headers['x-device']).toBe('d-1');
    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['socketio.ack join', 'socketio.connect', 'socketio.news']);
    expect(snap.errors).toEqual({});
    conn.disconnect();
    await until(() => server.disconnects.length === 1, 'the server sees the disconnect');
    expect(server.disconnects).toEqual(['client namespace disconnect']);
  });
});

describe('u.socketio closing', () => {
  test.each([
    ['disconnects the socket', 'io server disconnect', (s: ServerSocket) => s.disconnect(true)],
    ['closes the transport', 'transport close', (s: ServerSocket) => s.conn.close()],
  ])('the server %s during a pending wait and ack: ECONNRESET for each, counted once each', async (_how, reason, hangUp) => {
    const server = await startIoServer({
      onConnection: (socket) => {
        socket.on('slow', () => {}); // never acked
        socket.on('bye', () => hangUp(socket));
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    const ack = conn.ack('slow', [], { timeout: '5s' }).catch((e: unknown) => e);
    const t0 = performance.now();
    const err = await conn.request('bye', [], 'never', { timeout: '5s' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNRESET');
    expect((err as LoadError).message).toContain(reason);
    expect(((await ack) as LoadError).code).toBe('ECONNRESET');
    expect(conn.isConnected).toBe(false);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 2 });
    expect(snap.counters).toEqual({ [`socketio.disconnect ${reason}`]: 1, 'socketio.emit slow': 1, 'socketio.emit bye': 1 });
    expect(snap.ops).toBe(3);
    expect(snap.gauges.connections).toBe(0);
    // Later operations fail at once, each counted.
    const late = await conn.waitFor('anything', { timeout: '5s' }).catch((e: unknown) => e);
    expect((late as LoadError).code).toBe('ECONNRESET');
    expect(() => conn.emit('late')).toThrow(LoadError);
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 2 });
  });

  test('disconnect() ends the namespace; the server sees it, the gauge returns to 0, and it is idempotent', async () => {
    const server = await startIoServer();
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    conn.disconnect();
    conn.disconnect();

    expect(conn.isConnected).toBe(false);
    await until(() => server.disconnects.length === 1, 'the server sees the disconnect');
    expect(server.disconnects).toEqual(['client namespace disconnect']);
    await until(() => server.io.engine.clientsCount === 0, 'the transport closed');
    const snap = rt.snapshot();
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 1 });
    expect(snap.errors).toEqual({});
    expect(snap.counters).toEqual({});
    const ack = await conn.ack('late').catch((e: unknown) => e);
    expect((ack as LoadError).code).toBe('ECONNRESET');
  });

  test("the user's end closes every connection: pending waits and acks end with StopError, nothing counted", async () => {
    const server = await startIoServer({ onConnection: (socket) => socket.on('slow', () => {}) });
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const io = createSocketIoClient(u.scope);
    const conns = await Promise.all([1, 2, 3, 4, 5].map(() => io.connect()));
    const wait = conns[0].waitFor('never', { timeout: '5s' }).catch((e: unknown) => e);
    const ack = conns[1].ack('slow', [], { timeout: '5s' }).catch((e: unknown) => e);
    expect(rt.recorder.openConnections).toBe(5);
    u.scope.closeAll();

    expect(await wait).toBeInstanceOf(StopError);
    expect(await ack).toBeInstanceOf(StopError);
    await until(() => server.disconnects.length === 5, 'the server sees 5 disconnects');
    await until(() => server.io.engine.clientsCount === 0, 'every transport closed');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({});
    expect(snap.counters).toEqual({ 'socketio.emit slow': 1 });
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 5 });
    // Closing again is harmless.
    u.scope.closeAll();
    expect(rt.recorder.openConnections).toBe(0);
  });
});

describe('u.socketio: emits counted as the server received them', () => {
  test('emit, request and ack each count socketio.emit <event>: a counter per event, not an operation', async () => {
    const receivedByServer = new Map<string, number>();
    const server = await startIoServer({
      onConnection: (socket) => {
        socket.onAny((event: string) => receivedByServer.set(event, (receivedByServer.get(event) ?? 0) + 1));
        socket.on('order', (_n: number, ack?: (ok: boolean) => void) => ack?.(true));
        socket.on('ask', () => socket.emit('answer'));
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await client().connect();
    rt.snapshot(); // leave the connect out of what follows

    for (let i = 0; i < 5; i++) conn.emit('view', i);
    await conn.ack('order', [1]);
    await conn.ack('order', [2]);
    await conn.request('ask', [], 'answer');
    await until(() => receivedByServer.get('view') === 5, 'the server has every view');

    const snap = rt.snapshot();
    expect(Object.fromEntries(receivedByServer)).toEqual({ view: 5, order: 2, ask: 1 });
    const emits = Object.fromEntries(Object.entries(snap.counters).filter(([k]) => k.startsWith('socketio.emit ')).map(([k, v]) => [k.slice('socketio.emit '.length), v]));
    expect(emits).toEqual(Object.fromEntries(receivedByServer));
    // Operations: the two acks and the request's response, not the emits.
    expect(snap.ops).toBe(3);
  });
});
