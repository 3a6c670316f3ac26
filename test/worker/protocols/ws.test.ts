import type { WebSocket } from 'ws';
import { VirtualUser } from '../../../worker/engine/user';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import type { WsMessage } from '../../../worker/protocols/ws';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, HOST, refusedPort, startStallServer, startWsServer } from '../../helpers/servers';

/**
 * Answers `{"id":n,...}` with `{"re":n}` after first pushing two unrelated messages, so that a
 * reply never arrives alone: matching by predicate is what finds it.
 */
function chattyEcho(ws: WebSocket) {
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id: number };
    ws.send(JSON.stringify({ push: 'tick', n: 1 }));
    ws.send('not json at all');
    ws.send(JSON.stringify({ re: msg.id }));
  });
}

const reply = (id: number) => (m: WsMessage) => m.text().startsWith('{') && m.json<{ re?: number }>().re === id;

let rt: TestRuntime;

afterEach(async () => {
  await rt?.close();
  await closeServers();
});

describe('u.ws against a well-behaved server', () => {
  test('a connection leaves from the source address the worker picks (--source-ips), as the server sees it', async () => {
    const remotes: string[] = [];
    const server = await startWsServer({ onConnection: (_ws, req) => remotes.push(req.socket.remoteAddress ?? '') });
    rt = createTestRuntime({ target: server.url });
    const picks = ['127.0.0.2', '127.0.0.3'];
    let next = 0;
    const runtime = { ...rt.runtime, sourceAddress: () => picks[next++ % picks.length] };
    for (const id of [1, 2, 3]) await new VirtualUser(id, runtime, 1, 0).ws.connect();
    await server.acceptedAtLeast(3);
    for (let i = 0; i < 100 && remotes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(remotes).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.2']);
  });

  test('connect is timed as ws.connect and counted as an open connection', async () => {
    const server = await startWsServer();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const conn = await u.ws.connect();

    expect(conn.isOpen).toBe(true);
    await server.acceptedAtLeast(1);
    expect(server.clients.size).toBe(1);
    const snap = rt.snapshot();
    expect(latency(snap, 'ws.connect')?.count).toBe(1);
    expect(snap.ops).toBe(1);
    expect(snap.gauges).toMatchObject({ connections: 1, connectionsMax: 1 });
  });

  test('request finds its reply among unrelated pushes; the pushes stay in the inbox for later waits', async () => {
    const server = await startWsServer({ onConnection: chattyEcho });
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const conn = await u.ws.connect();

    const first = await conn.request({ id: 1 }, reply(1), { name: 'echo' });
    const second = await conn.request({ id: 2 }, reply(2), { name: 'echo' });
    expect(first.json()).toEqual({ re: 1 });
    expect(second.json()).toEqual({ re: 2 });
    expect(first.isBinary).toBe(false);
    // The unclaimed pushes of both exchanges are still there, oldest first.
    const push = await conn.waitFor((m) => m.text().includes('tick'), { name: 'push' });
    expect(push.json()).toEqual({ push: 'tick', n: 1 });
    const plain = await conn.waitFor((m) => m.text() === 'not json at all');
    expect(plain.data).toBe('not json at all');

    const snap = rt.snapshot();
    expect(latency(snap, 'ws.echo')?.count).toBe(2);
    expect(latency(snap, 'ws.push')?.count).toBe(1);
    expect(latency(snap, 'ws.reply')?.count).toBe(1);
    expect(snap.ops).toBe(1 + 2 + 2);
    expect(snap.errors).toEqual({});
    const sent = Buffer.byteLength('{"id":1}') * 2;
    const received = 2 * (Buffer.byteLength('{"push":"tick","n":1}') + Buffer.byteLength('not json at all') + Buffer.byteLength('{"re":1}'));
    expect(snap.bytes).toEqual({ sent, received });
  });

  test('waitFor resolves at once with a message that arrived before the call', async () => {
    const server = await startWsServer({ onConnection: (ws) => ws.send(JSON.stringify({ hello: 'welcome' })) });
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const conn = await u.ws.connect();
    const seen: string[] = [];
    conn.onMessage((m) => seen.push(m.text()));
    await new Promise((r) => setTimeout(r, 100)); // the greeting is in the inbox by now

    const t0 = performance.now();
    const hello = await conn.waitFor((m) => m.json<{ hello?: string }>().hello !== undefined, { timeout: '1s', name: 'hello' });
    expect(performance.now() - t0).toBeLessThan(50);
    expect(hello.json()).toEqual({ hello: 'welcome' });
    expect(latency(rt.snapshot(), 'ws.hello')?.count).toBe(1);
  });

  test('binary frames arrive as bytes', async () => {
    const server = await startWsServer({ onConnection: (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })) });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    const msg = await conn.request(Buffer.from([1, 2, 3]), (m) => m.isBinary);

    expect(Buffer.isBuffer(msg.data)).toBe(true);
    expect([...(msg.data as Buffer)]).toEqual([1, 2, 3]);
    expect(rt.snapshot().bytes).toEqual({ sent: 3, received: 3 });
  });

  test('subprotocol and headers reach the server', async () => {
    const server = await startWsServer();
    rt = createTestRuntime({ target: 'http://127.0.0.1:1' });
    const conn = await rt.user().ws.connect(`${server.url}chat?room=7`, { protocols: ['v2.chat', 'v1.chat'], headers: { authorization: 'Bearer t0k3n', 'x-device': 'd-42' } });

    expect(conn.socket.protocol).toBe('v2.chat');
    expect(server.upgrades).toHaveLength(1);
    expect(server.upgrades[0].url).toBe('/chat?room=7');
    expect(server.upgrades[0].headers).toMatchObject({ authorization: 'Bearer t0k3n', 'x-device': 'd-42', 'sec-websocket-protocol': 'v2.chat,v1.chat' });
  });

  test('ping resolves with the round trip, timed as ws.ping', async () => {
    const server = await startWsServer();
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    const ms = await conn.ping();

    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
    expect(latency(rt.snapshot(), 'ws.ping')?.count).toBe(1);
  });

  test('a predicate that throws on an unrelated message fails its wait with that error, counted once', async () => {
    const server = await startWsServer({ onConnection: chattyEcho });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    // The server's second push is not JSON: m.json() throws on it.
    const err = await conn.request({ id: 1 }, (m) => m.json<{ re?: number }>().re === 1, { timeout: '2s' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('SyntaxError');
    expect((err as LoadError).recorded).toBe(true);
    // The connection still works, and a predicate that throws on a message already in the inbox fails the same way.
    const again = await conn.waitFor((m) => m.json<{ re?: number }>().re === 1, { timeout: '2s' }).catch((e: unknown) => e);
    expect((again as LoadError).code).toBe('SyntaxError');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ SyntaxError: 2 });
    expect(snap.ops).toBe(3);
  });

  test('close() ends the connection with a close frame; the gauge returns to 0', async () => {
    const server = await startWsServer();
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    await conn.close(1000, 'bye');

    expect(conn.isOpen).toBe(false);
    await server.closedAtLeast(1);
    expect(server.closeCodes).toEqual([1000]);
    // Closing twice is harmless and counts nothing twice.
    await conn.close();
    const snap = rt.snapshot();
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 1 });
    expect(snap.errors).toEqual({});
    expect(snap.ops).toBe(1);
    // A closed connection can neither send nor ping; each attempt is one ECONNRESET.
    expect(() => conn.send('late')).toThrow(LoadError);
    const ping = await conn.ping({ timeout: '200ms' }).catch((e: unknown) => e);
    expect(ping).toBeInstanceOf(LoadError);
    expect((ping as LoadError).code).toBe('ECONNRESET');
    await new Promise((r) => setTimeout(r, 300)); // past the ping's timeout: nothing more is counted
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 2 });
  });
});

describe('u.ws against servers that fail', () => {
  test('waitFor with nothing matching: ETIMEDOUT, counted once; the connection stays usable', async () => {
    const server = await startWsServer({ onConnection: chattyEcho });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    const t0 = performance.now();
    const err = await conn.request({ id: 1 }, reply(999), { timeout: '200ms', name: 'never' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect((await conn.request({ id: 2 }, reply(2))).json()).toEqual({ re: 2 });
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(3); // connect, the timed-out wait, the reply
    expect(metricNames(snap)).toEqual(['ws.connect', 'ws.reply']);
  });

  test('a handshake that never completes: ETIMEDOUT after the connect timeout', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: `ws://${HOST}:${server.port}/` });
    const err = await rt.user().ws.connect(undefined, { timeout: '300ms' }).catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ETIMEDOUT');
    await server.closedAtLeast(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.gauges.connectionsMax).toBe(0);
  });

  test.each([
    ['with a close frame', (ws: WebSocket) => ws.close(1001, 'going away')],
    ['by dropping the socket', (ws: WebSocket) => ws.terminate()],
  ])('the server closing %s while a waitFor is pending: rejected with ECONNRESET, counted once', async (_how, hangUp) => {
    const server = await startWsServer({ onConnection: (ws) => ws.on('message', () => hangUp(ws)) });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    const t0 = performance.now();
    const err = await conn.request('bye?', () => false, { timeout: '5s' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNRESET');
    expect(conn.isOpen).toBe(false);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 1 });
    expect(snap.ops).toBe(2);
    expect(snap.gauges.connections).toBe(0);
    // A wait after the close fails at once, and is counted too.
    const late = await conn.waitFor(() => true, { timeout: '5s' }).catch((e: unknown) => e);
    expect((late as LoadError).code).toBe('ECONNRESET');
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 1 });
  });

  test('garbage on the wire (a frame with a reserved opcode): a ws protocol code, not an exception', async () => {
    const server = await startWsServer({ onConnection: (ws, req) => ws.on('message', () => req.socket.write(Buffer.from([0x83, 0x00]))) });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect();
    const err = await conn.request('hi', () => true, { timeout: '5s' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('WS_ERR_INVALID_OPCODE');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ WS_ERR_INVALID_OPCODE: 1 });
    expect(snap.gauges.connections).toBe(0);
  });

  test('an upgrade refused with 403: error HTTP 403, no connection', async () => {
    const server = await startWsServer({ refuseWith: 403 });
    rt = createTestRuntime({ target: server.url });
    const err = await rt.user().ws.connect().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('HTTP 403');
    expect(server.upgrades).toHaveLength(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'HTTP 403': 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 0 });
  });

  test('a refused connection: ECONNREFUSED', async () => {
    const port = await refusedPort();
    rt = createTestRuntime({ target: `ws://${HOST}:${port}/` });
    const err = await rt.user().ws.connect().catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ECONNREFUSED');
    expect(rt.snapshot().errors).toEqual({ ECONNREFUSED: 1 });
  });

  test('waits pending when the user is closed end with StopError, not an error', async () => {
    const server = await startWsServer();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const conn = await u.ws.connect();
    const pending = conn.waitFor(() => false, { timeout: '5s' }).catch((e: unknown) => e);
    u.scope.closeAll();

    expect(await pending).toBeInstanceOf(StopError);
    await server.closedAtLeast(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({});
    expect(snap.gauges.connections).toBe(0);
  });
});

describe('u.ws: messages counted as the server counted them', () => {
  test('ws.messages.sent and ws.messages.received equal the server\'s messages in and out; pings are not messages', async () => {
    let serverIn = 0;
    let serverOut = 0;
    const server = await startWsServer({
      onConnection: (ws) => {
        const send = (data: string) => {
          serverOut++;
          ws.send(data);
        };
        send('welcome');
        send('news');
        ws.on('message', (data) => {
          serverIn++;
          // Heartbeats get one reply; everything else two.
          if (data.toString() === 'hb') return send('hb-ok');
          send(`echo ${data}`);
          send('tick');
        });
      },
    });
    rt = createTestRuntime({ target: server.url });
    const conn = await rt.user().ws.connect(undefined, { heartbeat: { interval: '50ms', message: 'hb', expect: (m) => m.text() === 'hb-ok' } });
    for (let i = 0; i < 4; i++) await conn.request(`m${i}`, (m) => m.text() === `echo m${i}`);
    await conn.send('last');
    await conn.ping();
    await new Promise((r) => setTimeout(r, 120)); // a heartbeat or two
    await conn.close();
    await server.closedAtLeast(1);

    const snap = rt.snapshot();
    expect(serverIn).toBeGreaterThanOrEqual(6);
    expect(snap.counters['ws.messages.sent']).toBe(serverIn);
    expect(snap.counters['ws.messages.received']).toBe(serverOut);
    // Counters are not operations: the connect, 4 requests, the ping and the answered heartbeats.
    expect(snap.ops).toBe(1 + 4 + 1 + (latency(snap, 'ws.heartbeat')?.count ?? 0));
  });
});
