import type * as net from 'node:net';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, frame, refusedPort, startStallServer, startTcpServer, trickle, type TcpServer } from '../../helpers/servers';

/** A server that, once it has `expect` bytes from the client, answers with `reply`, one byte at a time. */
function trickleOnRequest(reply: Buffer, expectBytes = 1): Promise<TcpServer> {
  return startTcpServer((socket) => {
    let got = 0;
    socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= expectBytes) void trickle(socket, reply);
    });
  });
}

/** Counts the chunks the client's socket delivered, to show that a read spanned several. */
function countChunks(socket: net.Socket): { n: number } {
  const count = { n: 0 };
  socket.on('data', () => count.n++);
  return count;
}

let rt: TestRuntime;

afterEach(async () => {
  await rt?.close();
  await closeServers();
});

describe('u.tcp reads across chunk boundaries', () => {
  test('readExact assembles bytes that arrive one at a time', async () => {
    const server = await trickleOnRequest(Buffer.from('0123456789abcdef'));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    const chunks = countChunks(conn.socket);
    conn.write('go');

    expect((await conn.readExact(10)).toString()).toBe('0123456789');
    expect((await conn.readExact(6)).toString()).toBe('abcdef');
    expect(chunks.n).toBeGreaterThan(2);
    const snap = rt.snapshot();
    expect(snap.bytes).toEqual({ sent: 2, received: 16 });
    // Reads without a name are not timed and are not operations; the connect is.
    expect(metricNames(snap)).toEqual(['tcp.connect']);
    expect(snap.ops).toBe(1);
  });

  test('readUntil finds a delimiter split across chunks and leaves what follows', async () => {
    const server = await trickleOnRequest(Buffer.from('HELLO\r\nWORLD\r\n'));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('?');

    expect((await conn.readUntil('\r\n')).toString()).toBe('HELLO');
    expect((await conn.readUntil(Buffer.from('\r\n'))).toString()).toBe('WORLD');
  });

  test.each([
    [{ width: 2 as const, endian: 'big' as const }],
    [{ width: 2 as const, endian: 'little' as const }],
    [{ width: 4 as const, endian: 'big' as const }],
    [{ width: 4 as const, endian: 'little' as const }],
    [{ width: 4 as const, endian: 'big' as const, includesHeader: true }],
    [{ width: 2 as const, endian: 'little' as const, includesHeader: true }],
    [{ width: 1 as const, endian: 'big' as const }],
  ])('readFrame %o', async (opts) => {
    // Two frames: the second is over 255 bytes (when the width allows), so both bytes of its length
    // matter. The first frame and the second's header arrive one byte at a time, the rest at once.
    const a = Buffer.from('first');
    const b = Buffer.alloc(opts.width === 1 ? 100 : 300, 0x42);
    const bytes = Buffer.concat([frame(a, opts), frame(b, opts)]);
    const split = frame(a, opts).length + opts.width + 2;
    const server = await startTcpServer((socket) =>
      socket.once('data', async () => {
        await trickle(socket, bytes.subarray(0, split));
        socket.write(bytes.subarray(split));
      }),
    );
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('x');

    expect((await conn.readFrame(opts)).toString()).toBe('first');
    expect((await conn.readFrame(opts)).equals(b)).toBe(true);
  });

  test('a named read is timed as tcp.<name> from the last write', async () => {
    const server = await startTcpServer((socket) => socket.on('data', () => setTimeout(() => socket.write(frame(Buffer.from('pong'))), 30)));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write(frame(Buffer.from('ping')));
    await conn.readFrame({ name: 'ping' });
    conn.write(frame(Buffer.from('ping')));
    await conn.readFrame({ name: 'ping' });

    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['tcp.connect', 'tcp.ping']);
    const ping = latency(snap, 'tcp.ping');
    expect(ping?.count).toBe(2);
    expect(ping?.minMs).toBeGreaterThanOrEqual(29);
    expect(snap.ops).toBe(3);
    expect(snap.bytes).toEqual({ sent: 16, received: 16 });
  });
});

describe('u.tcp against servers that fail', () => {
  test('a server that accepts and never answers: ETIMEDOUT, counted once', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('hello?');
    const t0 = performance.now();
    const err = await conn.readFrame({ timeout: '250ms', name: 'reply' }).catch((e: unknown) => e);

    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(2);
    expect(metricNames(snap)).toEqual(['tcp.connect']);
  });

  test.each([
    ['closes (FIN)', (s: net.Socket) => s.end()],
    ['resets (RST)', (s: net.Socket) => s.resetAndDestroy()],
  ])('a server that %s mid-frame: ECONNRESET, counted once', async (_how, hangUp) => {
    const server = await startTcpServer((socket) =>
      socket.once('data', () => {
        socket.write(Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from('abc')]));
        setTimeout(() => hangUp(socket), 20);
      }),
    );
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('go');
    const err = await conn.readFrame({ timeout: '5s' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNRESET');
    expect(conn.isOpen).toBe(false);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 1 });
    expect(snap.ops).toBe(2);
    expect(snap.gauges.connections).toBe(0);
    // Writing to the dead connection fails with the same code: one more error, in the next interval.
    expect(() => conn.write('more')).toThrow(expect.objectContaining({ code: 'ECONNRESET' }));
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 1 });
  });

  test('garbage: a frame length over maxBytes fails at once with LF_TCP_TOO_LARGE, without allocating it', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]))));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    const allocUnsafe = jest.spyOn(Buffer, 'allocUnsafe');
    const alloc = jest.spyOn(Buffer, 'alloc');
    try {
      conn.write('go');
      const t0 = performance.now();
      const err = await conn.readFrame({ timeout: '5s' }).catch((e: unknown) => e);

      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err).toBeInstanceOf(LoadError);
      expect((err as LoadError).code).toBe('LF_TCP_TOO_LARGE');
      const big = [...allocUnsafe.mock.calls, ...alloc.mock.calls].filter(([n]) => n > 1024 * 1024);
      expect(big).toEqual([]);
    } finally {
      allocUnsafe.mockRestore();
      alloc.mockRestore();
    }
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ LF_TCP_TOO_LARGE: 1 });
    expect(snap.ops).toBe(2);
  });

  test('maxBytes applies to readFrame and readUntil', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => socket.write(Buffer.concat([frame(Buffer.alloc(64)), Buffer.alloc(100, 0x61)]))));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('go');
    const tooLong = await conn.readFrame({ maxBytes: 63 }).catch((e: unknown) => e);
    expect((tooLong as LoadError).code).toBe('LF_TCP_TOO_LARGE');
    // The frame is still there for a read that accepts it.
    expect((await conn.readFrame({ maxBytes: 64 })).length).toBe(64);
    const noDelimiter = await conn.readUntil('\n', { maxBytes: 50, timeout: '2s' }).catch((e: unknown) => e);
    expect((noDelimiter as LoadError).code).toBe('LF_TCP_TOO_LARGE');
    expect(rt.snapshot().errors).toEqual({ LF_TCP_TOO_LARGE: 2 });
  });

  test('a second read while one is waiting is rejected; the first still completes', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => setTimeout(() => socket.write('ab'), 50)));
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    conn.write('go');
    const first = conn.readExact(2);
    const second = await conn.readExact(1).catch((e: unknown) => e);

    expect(second).toBeInstanceOf(LoadError);
    expect((second as LoadError).code).toBe('LF_TCP_CONCURRENT_READ');
    expect((await first).toString()).toBe('ab');
  });

  test('a refused connection: ECONNREFUSED, counted once', async () => {
    const port = await refusedPort();
    rt = createTestRuntime();
    const err = await rt.user().tcp.connect(`tcp://127.0.0.1:${port}`).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNREFUSED');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNREFUSED: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 0 });
  });

  test('a target that is not host:port: EINVALIDURL', async () => {
    rt = createTestRuntime();
    const err = await rt.user().tcp.connect('tcp://127.0.0.1').catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('EINVALIDURL');
    expect(rt.snapshot().errors).toEqual({ EINVALIDURL: 1 });
  });

  test('a read pending when the user is closed ends with StopError, not an error', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: server.address });
    const u = rt.user();
    const conn = await u.tcp.connect();
    const pending = conn.readExact(4, { timeout: '5s' }).catch((e: unknown) => e);
    u.scope.closeAll();

    expect(await pending).toBeInstanceOf(StopError);
    await server.closedAtLeast(1);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({});
    expect(snap.gauges.connections).toBe(0);
  });

  test('close() ends the connection; the server sees it and the gauge returns to 0', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: server.address });
    const conn = await rt.user().tcp.connect();
    await conn.close();
    await server.closedAtLeast(1);

    expect(conn.isOpen).toBe(false);
    await conn.close();
    const snap = rt.snapshot();
    expect(snap.gauges).toMatchObject({ connections: 0, connectionsMax: 1 });
    expect(snap.errors).toEqual({});
  });
});
