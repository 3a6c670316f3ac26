import type * as net from 'node:net';
import { delimited, lengthPrefixed, struct, u16, u32, u8, type Framing } from '../../../worker/protocols/binary';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, startStallServer, startTcpServer, trickle, type TcpServer } from '../../helpers/servers';

/**
 * u.tcp with framing: send/receive/request on whole frames, and sessions of typed messages with
 * sequence numbers and header state, against real loopback servers (some of them misbehaving).
 */

const be = { endian: 'big' } as const;
const Header = struct({ type: u8, seq: u32, session: u32 }, { name: 'Header', ...be });
const Login = struct({ user: u16 }, { name: 'Login', ...be });
const LoginOk = struct({ session: u32 }, { name: 'LoginOk', ...be });
const Echo = struct({ n: u32 }, { name: 'Echo', ...be });
const Code = struct({ code: u8 }, { name: 'Code', ...be });
const MESSAGES = {
  LOGIN: { type: 1, body: Login },
  LOGIN_OK: { type: 2, body: LoginOk },
  ECHO: { type: 3, body: Echo },
  ECHO_REPLY: { type: 4, body: Echo },
  PUSH: { type: 5 },
  ERROR: { type: 9, body: Code },
};
const framing = lengthPrefixed({ width: 4, endian: 'big' });

interface Msg {
  type: number;
  seq: number;
  session: number;
  body: Buffer;
}

type Reply = (type: number, seq: number, session: number, body?: Buffer) => void;

/** A server of the Header protocol: `onMessage` gets each message and a way to reply. */
function startProtocolServer(onMessage: (msg: Msg, reply: Reply, socket: net.Socket) => void): Promise<TcpServer> {
  return startTcpServer((socket) => {
    const reader = framing.reader();
    const reply: Reply = (type, seq, session, body = Buffer.alloc(0)) =>
      socket.write(framing.encode(Buffer.concat([Header.encode({ type, seq, session }), body])));
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        const { value, end } = Header.decodeFrom(f);
        onMessage({ ...value, body: Buffer.from(f.subarray(end)) }, reply, socket);
      }
    });
  });
}

/** Logs in (session = 1000 + user), then echoes `n` for requests that carry the session, else ERROR 1. */
function startEchoServer(log: Msg[] = []): Promise<TcpServer> {
  return startProtocolServer((msg, reply) => {
    log.push(msg);
    if (msg.type === 1) return reply(2, msg.seq, 0, LoginOk.encode({ session: 1000 + Login.decode(msg.body).user }));
    if (msg.type !== 3) return reply(9, msg.seq, msg.session, Code.encode({ code: 2 }));
    if (msg.session < 1000) return reply(9, msg.seq, msg.session, Code.encode({ code: 1 }));
    return reply(4, msg.seq, msg.session, msg.body);
  });
}

let rt: TestRuntime;

afterEach(async () => {
  await rt?.close();
  await closeServers();
});

async function framedConn(server: TcpServer, f: Framing = framing) {
  rt = createTestRuntime({ target: server.address });
  return rt.user().tcp.connect(undefined, { framing: f });
}

async function failure(p: Promise<unknown>): Promise<LoadError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadError);
  return err as LoadError;
}

describe('framed connections: send, receive, request', () => {
  test('send adds the frame header; receive returns whole payloads that arrive a byte at a time', async () => {
    const got: Buffer[] = [];
    const server = await startTcpServer((socket) => {
      const reader = framing.reader();
      socket.on('data', (c: Buffer) => {
        reader.push(c);
        for (let f = reader.next(); f !== undefined; f = reader.next()) {
          got.push(Buffer.from(f));
          void trickle(socket, framing.encode(Buffer.from(`re:${f.toString()}`)));
        }
      });
    });
    const conn = await framedConn(server);
    conn.send('hello');
    expect((await conn.receive()).toString()).toBe('re:hello');
    conn.send(Buffer.from('again'));
    expect((await conn.receive({ name: 'reply' })).toString()).toBe('re:again');

    expect(got.map(String)).toEqual(['hello', 'again']);
    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['tcp.connect', 'tcp.reply']);
    expect(snap.bytes).toEqual({ sent: 4 + 5 + 4 + 5, received: 4 + 8 + 4 + 8 });
  });

  test('request times write → whole reply frame as tcp.<name>; delimited framing too', async () => {
    const server = await startTcpServer((socket) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n')) {
          const line = text.slice(0, at);
          text = text.slice(at + 1);
          setTimeout(() => socket.write(`${line.toUpperCase()}\n`), 20);
        }
      });
    });
    const conn = await framedConn(server, delimited({ delimiter: '\n' }));
    expect((await conn.request('ping', { name: 'ping' })).toString()).toBe('PING');
    expect((await conn.request('pong')).toString()).toBe('PONG');

    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['tcp.connect', 'tcp.ping', 'tcp.request']);
    expect(latency(snap, 'tcp.ping')?.minMs).toBeGreaterThanOrEqual(19);
    expect(snap.ops).toBe(3);
    expect(snap.errors).toEqual({});
  });

  test('request with expect: a refused reply is timed, counted once as `unexpected response`, and rejects', async () => {
    const server = await startTcpServer((socket) => socket.on('data', () => socket.write(framing.encode(Buffer.from('NO')))));
    const conn = await framedConn(server);
    const err = await failure(conn.request('x', { name: 'ask', expect: (r) => r.toString() === 'OK' }));

    expect(err.code).toBe('unexpected response');
    expect(err.recorded).toBe(true);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'unexpected response': 1 });
    expect(latency(snap, 'tcp.ask')?.count).toBe(1);
    expect(snap.ops).toBe(2);
  });

  test('raw reads and frames share one stream: bytes after a frame are there for readExact, and back', async () => {
    const bytes = Buffer.concat([framing.encode(Buffer.from('one')), Buffer.from('RAW'), framing.encode(Buffer.from('two'))]);
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(bytes)));
    const conn = await framedConn(server);
    conn.write('go');

    expect((await conn.receive()).toString()).toBe('one');
    expect((await conn.readExact(3)).toString()).toBe('RAW');
    expect((await conn.readFrame()).toString()).toBe('two');
  });

  test('a connection without framing has no send/receive/request/session', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: server.address });
    const conn = (await rt.user().tcp.connect()) as unknown as { send(p: string): void; receive(): Promise<Buffer> };
    expect(() => conn.send('x')).toThrow(expect.objectContaining({ code: 'LF_TCP_NO_FRAMING' }));
    expect((await failure(conn.receive())).code).toBe('LF_TCP_NO_FRAMING');
  });
});

describe('sessions: typed messages, sequence numbers, header state', () => {
  const session = (conn: Awaited<ReturnType<typeof framedConn>>) =>
    conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });

  test('sequence numbers go up by one per request and match every reply, across many requests', async () => {
    const log: Msg[] = [];
    const server = await startEchoServer(log);
    const conn = await framedConn(server);
    const s = session(conn);
    const ok = await s.request('LOGIN', { user: 7 }, { name: 'login', expect: 'LOGIN_OK' });
    s.set({ session: ok.body.session });
    for (let n = 0; n < 300; n++) {
      const r = await s.request('ECHO', { n }, { name: 'echo', expect: 'ECHO_REPLY' });
      expect(r.body.n).toBe(n);
      expect(r.header.seq).toBe(n + 2);
    }

    expect(s.seq).toBe(301);
    expect(log.map((m) => m.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
    const snap = rt.snapshot();
    expect(latency(snap, 'tcp.login')?.count).toBe(1);
    expect(latency(snap, 'tcp.echo')?.count).toBe(300);
    expect(snap.errors).toEqual({});
    expect(snap.ops).toBe(302);
  });

  test('the session id from the login reply is carried in every later header', async () => {
    const log: Msg[] = [];
    const server = await startEchoServer(log);
    const conn = await framedConn(server);
    const s = session(conn);
    const ok = await s.request('LOGIN', { user: 42 }, { expect: 'LOGIN_OK' });
    expect(ok.kind).toBe('LOGIN_OK');
    s.set({ session: ok.body.session });
    await s.request('ECHO', { n: 1 }, { expect: 'ECHO_REPLY' });
    await s.request('ECHO', { n: 2 }, { expect: 'ECHO_REPLY', header: { session: 1042 } });

    expect(s.state).toEqual({ session: 1042 });
    expect(log.map((m) => [m.type, m.session])).toEqual([
      [1, 0],
      [3, 1042],
      [3, 1042],
    ]);
    // Without a name, a request is timed under its kind.
    expect(metricNames(rt.snapshot())).toEqual(['tcp.ECHO', 'tcp.LOGIN', 'tcp.connect']);
  });

  test('expect: another kind of reply is counted once as `unexpected response <KIND>` and rejects', async () => {
    const server = await startEchoServer();
    const conn = await framedConn(server);
    const s = session(conn);
    // No login: the server answers ERROR (bad session).
    const err = await failure(s.request('ECHO', { n: 1 }, { name: 'echo', expect: 'ECHO_REPLY' }));

    expect(err.code).toBe('unexpected response ERROR');
    expect(err.message).toContain('expected ECHO_REPLY, got ERROR {"code":1}');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'unexpected response ERROR': 1 });
    expect(latency(snap, 'tcp.echo')?.count).toBe(1);
    expect(snap.ops).toBe(2);
    // The stream is still in step: the next exchange works.
    expect((await s.request('LOGIN', { user: 1 }, { expect: ['LOGIN_OK', 'ERROR'] })).kind).toBe('LOGIN_OK');
  });

  test('a reply with another sequence number: EPROTO, counted once', async () => {
    const server = await startProtocolServer((msg, reply) => reply(2, msg.seq + 1, 0, LoginOk.encode({ session: 1 })));
    const conn = await framedConn(server);
    const err = await failure(session(conn).request('LOGIN', { user: 1 }, { name: 'login' }));

    expect(err.code).toBe('EPROTO');
    expect(err.message).toContain('seq 2, the request had 1');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ EPROTO: 1 });
    expect(metricNames(snap)).toEqual(['tcp.connect']);
  });

  test('a reply of an unknown type, or whose body does not decode: EPROTO', async () => {
    let n = 0;
    const server = await startProtocolServer((msg, reply) => {
      if (n++ === 0) reply(77, msg.seq, 0);
      else reply(2, msg.seq, 0, Buffer.from([1, 2])); // LoginOk needs 4 bytes
    });
    const conn = await framedConn(server);
    const s = session(conn);
    const unknown = await failure(s.request('LOGIN', { user: 1 }));
    const truncated = await failure(s.request('LOGIN', { user: 1 }));

    expect(unknown.code).toBe('EPROTO');
    expect(unknown.message).toContain('unknown type 77');
    expect(truncated.code).toBe('EPROTO');
    expect(truncated.message).toContain('LoginOk.session');
    expect(rt.snapshot().errors).toEqual({ EPROTO: 2 });
  });

  test('send and receive: one-way messages and server pushes', async () => {
    const log: Msg[] = [];
    const server = await startProtocolServer((msg, reply) => {
      log.push(msg);
      reply(5, 99, msg.session);
    });
    const conn = await framedConn(server);
    const s = session(conn);
    expect(s.send('ECHO', { n: 5 })).toBe(1);
    const push = await s.receive({ expect: 'PUSH', name: 'push' });

    expect(push.kind).toBe('PUSH');
    expect(push.header.seq).toBe(99);
    expect(log.map((m) => [m.type, m.seq, Echo.decode(m.body).n])).toEqual([[3, 1, 5]]);
    expect(metricNames(rt.snapshot())).toEqual(['tcp.connect', 'tcp.push']);
  });

  test('sequence numbers wrap after maxSeq', async () => {
    const log: Msg[] = [];
    const server = await startEchoServer(log);
    const conn = await framedConn(server);
    const s = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 1001 }, firstSeq: 5, maxSeq: 6 });
    for (let n = 0; n < 4; n++) await s.request('ECHO', { n }, { expect: 'ECHO_REPLY' });
    expect(log.map((m) => m.seq)).toEqual([5, 6, 5, 6]);
  });

  test('a protocol that cannot work fails at session(), naming every problem', async () => {
    const server = await startStallServer();
    const conn = await framedConn(server);
    const bad = {
      header: Header,
      typeField: 'type',
      seqField: 'type',
      messages: { A: { type: 1 }, B: { type: 1 }, C: { type: -1 } },
      firstSeq: -1,
    } as unknown as Parameters<typeof conn.session>[0];
    let err: unknown;
    try {
      conn.session(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LF_TCP_PROTOCOL' });
    const message = (err as Error).message;
    expect(message).toContain('typeField and seqField must be two fields');
    expect(message).toContain('messages.B and messages.A have the same type 1');
    expect(message).toContain('messages.C.type must be a non-negative integer');
    expect(message).toContain('firstSeq must be an integer');
  });
});

describe('framed connections against servers that fail', () => {
  test('garbage: a length shorter than the header it includes is EPROTO, counted once, no crash', async () => {
    const f = lengthPrefixed({ width: 4, includesHeader: true });
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(Buffer.from([0, 0, 0, 1, 0xde, 0xad]))));
    const conn = await framedConn(server, f);
    const err = await failure(conn.request('hi', { name: 'hi' }));

    expect(err.code).toBe('EPROTO');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ EPROTO: 1 });
    expect(snap.ops).toBe(2);
  });

  test('garbage: a frame too short for the header struct is EPROTO in a session', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(Buffer.from([0, 0, 0, 2, 0xff, 0xff]))));
    const conn = await framedConn(server);
    const s = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });
    const err = await failure(s.request('LOGIN', { user: 1 }, { name: 'login' }));

    expect(err.code).toBe('EPROTO');
    expect(err.message).toContain('Header');
    expect(rt.snapshot().errors).toEqual({ EPROTO: 1 });
  });

  test('garbage: a length over the framing limit fails at once with LF_TCP_TOO_LARGE', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1]))));
    const conn = await framedConn(server, lengthPrefixed({ maxFrameBytes: 1024 }));
    const t0 = performance.now();
    const err = await failure(conn.request('hi', { timeout: '5s' }));

    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err.code).toBe('LF_TCP_TOO_LARGE');
    expect(rt.snapshot().errors).toEqual({ LF_TCP_TOO_LARGE: 1 });
  });

  test.each([
    ['closes (FIN)', (s: net.Socket) => s.end()],
    ['resets (RST)', (s: net.Socket) => s.resetAndDestroy()],
  ])('a server that %s mid-frame: ECONNRESET, counted once', async (_how, hangUp) => {
    const server = await startTcpServer((socket) =>
      socket.once('data', () => {
        socket.write(framing.encode(Buffer.alloc(20)).subarray(0, 12));
        setTimeout(() => hangUp(socket), 20);
      }),
    );
    const conn = await framedConn(server);
    const s = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });
    const err = await failure(s.request('LOGIN', { user: 1 }, { name: 'login', timeout: '5s' }));

    expect(err.code).toBe('ECONNRESET');
    expect(conn.isOpen).toBe(false);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 1 });
    expect(snap.gauges.connections).toBe(0);
    // The next request fails at once with the same code, without writing.
    expect((await failure(s.request('LOGIN', { user: 1 }))).code).toBe('ECONNRESET');
  });

  test('a server that stalls: ETIMEDOUT, counted once, no latency recorded', async () => {
    const server = await startStallServer();
    const conn = await framedConn(server);
    const s = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });
    const t0 = performance.now();
    const err = await failure(s.request('LOGIN', { user: 1 }, { name: 'login', timeout: '250ms' }));

    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(err.code).toBe('ETIMEDOUT');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(2);
    expect(metricNames(snap)).toEqual(['tcp.connect']);
  });

  test('a second request while one waits is refused without writing; the first completes', async () => {
    const log: Msg[] = [];
    const server = await startProtocolServer((msg, reply) => {
      log.push(msg);
      setTimeout(() => reply(2, msg.seq, 0, LoginOk.encode({ session: 3 })), 30);
    });
    const conn = await framedConn(server);
    const s = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });
    const first = s.request('LOGIN', { user: 1 });
    const second = await s.request('LOGIN', { user: 2 }).catch((e: unknown) => e);

    expect(second).toMatchObject({ code: 'LF_TCP_CONCURRENT_READ' });
    expect((await first).kind).toBe('LOGIN_OK');
    expect(log).toHaveLength(1);
  });

  test('a request pending when the user is closed ends with StopError, not an error', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: server.address });
    const u = rt.user();
    const conn = await u.tcp.connect(undefined, { framing });
    const pending = conn.request('x', { timeout: '5s' }).catch((e: unknown) => e);
    u.scope.closeAll();

    expect(await pending).toBeInstanceOf(StopError);
    expect(rt.snapshot().errors).toEqual({});
  });
});
