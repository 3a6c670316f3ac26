import { createRng, userSeed } from '../../../worker/engine/rng';
import { recordJourneyFailure } from '../../../worker/engine/user';
import { LoadError, StopError } from '../../../worker/protocols/errors';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, refusedPort, startHttpServer, startStallServer, startWsServer } from '../../helpers/servers';

/**
 * The rest of `u` as a scenario author uses it — check, count, time, think — and the two things
 * the engine relies on from a user: open-model lag on the first timed operation, and closing
 * whatever the user left open.
 */

let rt: TestRuntime;

afterEach(async () => {
  await rt?.close();
  await closeServers();
});

describe('u.check, u.count, u.time', () => {
  test('check: its own family, per name pass and fail; never a counter, an error or an operation', () => {
    rt = createTestRuntime();
    const u = rt.user();
    expect(u.check('status is 200', true)).toBe(true);
    expect(u.check('status is 200', true)).toBe(true);
    expect(u.check('status is 200', false)).toBe(false);
    expect(u.check('has body', false)).toBe(false);

    const snap = rt.snapshot();
    expect(snap.checks).toEqual({ 'status is 200': { pass: 2, fail: 1 }, 'has body': { pass: 0, fail: 1 } });
    expect(snap.counters).toEqual({});
    expect(snap.errors).toEqual({});
    expect(snap.ops).toBe(0);
    expect(snap.histograms).toEqual({});
  });

  test('count adds to a counter and is not an operation', () => {
    rt = createTestRuntime();
    const u = rt.user();
    u.count('orders');
    u.count('orders', 4);
    u.count('items', 0);

    const snap = rt.snapshot();
    expect(snap.counters).toEqual({ orders: 5, items: 0 });
    expect(snap.ops).toBe(0);
    expect(snap.errors).toEqual({});
  });

  test('time records the block (not an operation), and the client calls inside it under their own names', async () => {
    const server = await startHttpServer((_req, res) => setTimeout(() => res.end('ok'), 20));
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const value = await u.time('login', async () => {
      await u.http.get('/a');
      await u.http.get('/b');
      return 42;
    });
    const sync = await u.time('compute', () => 'done');

    expect(value).toBe(42);
    expect(sync).toBe('done');
    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['compute', 'http.GET /a', 'http.GET /b', 'login']);
    expect(latency(snap, 'login')?.minMs).toBeGreaterThanOrEqual(39);
    // The two requests are the operations; the timed blocks are latency metrics only.
    expect(snap.ops).toBe(2);
  });

  test('time: a client failure inside is counted once, where it happened', async () => {
    const port = await refusedPort();
    rt = createTestRuntime({ target: `http://127.0.0.1:${port}` });
    const u = rt.user();
    const err = await u.time('checkout', () => u.http.get('/cart')).catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ECONNREFUSED');
    recordJourneyFailure(rt.runtime, err);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNREFUSED: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
  });

  test('time: a plain exception in the block is counted by its name, once', async () => {
    rt = createTestRuntime();
    const u = rt.user();
    const typeError = await u.time('parse', () => {
      throw new TypeError('x is undefined');
    }).catch((e: unknown) => e);
    const plain = await u.time('parse', async () => {
      throw new Error('nope');
    }).catch((e: unknown) => e);

    expect(typeError).toBeInstanceOf(LoadError);
    expect((typeError as LoadError).code).toBe('TypeError');
    expect((plain as LoadError).code).toBe('EXCEPTION');
    recordJourneyFailure(rt.runtime, plain);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ TypeError: 1, EXCEPTION: 1 });
    expect(snap.ops).toBe(2);
  });

  test('an uncaught non-client failure ends the journey as one "exception <code>" error', () => {
    rt = createTestRuntime();
    recordJourneyFailure(rt.runtime, new RangeError('bad index'));
    recordJourneyFailure(rt.runtime, new StopError());
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'exception RangeError': 1 });
    expect(snap.ops).toBe(1);
  });
});

describe('u.think and the seeded rng', () => {
  test('the same run seed and user id give the same sequence; another id or seed does not', () => {
    rt = createTestRuntime();
    const a = rt.user({ id: 7, seed: 42 });
    const b = rt.user({ id: 7, seed: 42 });
    const otherId = rt.user({ id: 8, seed: 42 });
    const otherSeed = rt.user({ id: 7, seed: 43 });
    const draw = (u: typeof a) => Array.from({ length: 8 }, () => u.rng.int(0, 1_000_000));

    const seq = draw(a);
    expect(draw(b)).toEqual(seq);
    expect(draw(otherId)).not.toEqual(seq);
    expect(draw(otherSeed)).not.toEqual(seq);
  });

  test('think(min, max) waits the seeded time, drawn from the user rng', async () => {
    rt = createTestRuntime();
    const u = rt.user({ id: 3, seed: 99 });
    const twin = createRng(userSeed(99, 3));
    for (let i = 0; i < 3; i++) {
      const expectedMs = twin.float(0.02, 0.08) * 1000;
      const t0 = performance.now();
      await u.think(0.02, 0.08);
      const waited = performance.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(expectedMs - 2);
      expect(waited).toBeLessThan(expectedMs + 100);
    }
    // think drew exactly one number per call: the user and its twin are still in step.
    expect(u.rng.next()).toBe(twin.next());
  });

  test('think(s) with one argument waits s seconds and draws nothing', async () => {
    rt = createTestRuntime();
    const u = rt.user({ id: 3, seed: 99 });
    const twin = createRng(userSeed(99, 3));
    const t0 = performance.now();
    await u.think(0.03);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(u.rng.next()).toBe(twin.next());
  });

  test('think rejects with StopError when the run stops, at once', async () => {
    rt = createTestRuntime();
    const u = rt.user();
    const t0 = performance.now();
    const waiting = u.think(30).catch((e: unknown) => e);
    setTimeout(() => rt.controller.abort(), 20);

    expect(await waiting).toBeInstanceOf(StopError);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(u.think(1)).rejects.toBeInstanceOf(StopError);
    expect(rt.snapshot().errors).toEqual({});
  });
});

describe('u.think: many users, few timers', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('2,000 users thinking until the same moment share one timer, and none wakes before it', async () => {
    rt = createTestRuntime();
    const before = timers();
    const users = Array.from({ length: 2000 }, (_, i) => rt.user({ id: i }));
    const woke: number[] = [];
    const t0 = performance.now();
    const all = Promise.all(users.map((u) => u.think(0.05).then(() => woke.push(performance.now() - t0))));
    const spentMs = performance.now() - t0;
    // Every think asked for 50 ms: one wake-up per whole millisecond over which they were asked, not 2,000 timers.
    expect(timers() - before).toBeLessThanOrEqual(Math.ceil(spentMs) + 2);
    expect(timers() - before).toBeLessThan(100);
    await all;
    expect(woke).toHaveLength(2000);
    expect(Math.min(...woke)).toBeGreaterThanOrEqual(50);
    // Nothing of the thinks is left: any other timer of the process (a deadline tick) ends on its own.
    const until = performance.now() + 500;
    while (timers() > before && performance.now() < until) await new Promise((r) => setImmediate(r));
    expect(timers()).toBeLessThanOrEqual(before);
  });

  test('a think longer than a Node timer can wait (25 days) waits on one timer: no overflow to 1 ms, no wake-up loop', async () => {
    rt = createTestRuntime();
    const armed: number[] = [];
    const real = global.setTimeout;
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      armed.push(ms ?? 0);
      return real(fn, ms, ...args);
    }) as typeof setTimeout);
    let settled = false;
    let waiting: Promise<unknown>;
    try {
      waiting = rt.user().think(1e9).then(() => (settled = true), (e: unknown) => e);
      await new Promise((r) => real(r, 50));
    } finally {
      spy.mockRestore();
    }
    expect(settled).toBe(false);
    // One timer, within what Node's timers take (2^31 - 1 ms); a longer one fires after 1 ms, again and again.
    expect(armed).toHaveLength(1);
    expect(armed[0]).toBeLessThanOrEqual(2 ** 31 - 1);
    rt.controller.abort();
    expect(await waiting!).toBeInstanceOf(StopError);
  });

  test('a stop rejects every pending think of the run, whatever its wake time, and leaves no timer', async () => {
    rt = createTestRuntime();
    const before = timers();
    const waits = Array.from({ length: 300 }, (_, i) => rt.user({ id: i }).think(1 + (i % 7) * 0.5).catch((e: unknown) => e));
    expect(timers()).toBeGreaterThan(before);
    rt.controller.abort();
    const outcomes = await Promise.all(waits);
    expect(outcomes.every((e) => e instanceof StopError)).toBe(true);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('open-model lag', () => {
  test('a user that started 200 ms late counts its first timed operation from the due time, and only the first', async () => {
    const server = await startHttpServer((_req, res) => res.end('ok'));
    rt = createTestRuntime({ target: server.url });
    const u = rt.user({ lagMs: 200 });
    await u.http.get('/first');
    await u.http.get('/second');
    const late = rt.user({ id: 2, lagMs: 200 });
    await late.time('block', () => 'nothing to wait for');
    await late.time('block2', () => 'nothing either');

    const snap = rt.snapshot();
    expect(latency(snap, 'http.GET /first')?.minMs).toBeGreaterThanOrEqual(199.5);
    expect(latency(snap, 'http.GET /second')?.maxMs).toBeLessThan(150);
    expect(latency(snap, 'block')?.minMs).toBeGreaterThanOrEqual(199.5);
    expect(latency(snap, 'block2')?.maxMs).toBeLessThan(150);
  });

  test('a failed first operation uses up the lag too', async () => {
    const port = await refusedPort();
    rt = createTestRuntime({ target: `http://127.0.0.1:${port}` });
    const u = rt.user({ lagMs: 200 });
    await u.http.get('/').catch(() => undefined);
    await u.time('after', () => 1);
    expect(latency(rt.snapshot(), 'after')?.maxMs).toBeLessThan(150);
  });
});

describe('closing a user', () => {
  test('closeAll closes every WebSocket and TCP connection the user opened; the gauge returns to 0', async () => {
    const ws = await startWsServer();
    const tcp = await startStallServer();
    rt = createTestRuntime({ target: ws.url });
    const u = rt.user();
    const other = rt.user({ id: 2 });
    await u.ws.connect();
    await u.ws.connect();
    await u.tcp.connect(tcp.address);
    const tcpConn = await u.tcp.connect(tcp.address);
    const closedByHand = await u.tcp.connect(tcp.address);
    await closedByHand.close();
    const keep = await other.tcp.connect(tcp.address);
    await ws.acceptedAtLeast(2);
    await tcp.acceptedAtLeast(4);
    expect(rt.recorder.openConnections).toBe(5);

    u.scope.closeAll();

    await ws.closedAtLeast(2);
    await tcp.closedAtLeast(3);
    expect(rt.recorder.openConnections).toBe(1);
    expect(tcpConn.isOpen).toBe(false);
    expect(keep.isOpen).toBe(true);
    // Closing again, or the server's close arriving later, counts nothing twice.
    u.scope.closeAll();
    await new Promise((r) => setTimeout(r, 50));
    expect(tcp.closed).toBe(3);
    const snap = rt.snapshot();
    expect(snap.gauges).toMatchObject({ connections: 1, connectionsMax: 5 });
    expect(snap.errors).toEqual({});
    other.scope.closeAll();
    await tcp.closedAtLeast(4);
    expect(rt.recorder.openConnections).toBe(0);
  });
});
