import type { IncomingMessage } from 'node:http';
import type { Runtime } from '../../../worker/engine/scope';
import { recordJourneyFailure, VirtualUser } from '../../../worker/engine/user';
import { createHttpDispatcher } from '../../../worker/protocols/http-dispatcher';
import { LoadError } from '../../../worker/protocols/errors';
import { createTestRuntime, latency, metricNames, type TestRuntime } from '../../helpers/runtime';
import { closeServers, HOST, refusedPort, startHttpCutMidBody, startHttpServer, startStallServer, startTcpServer, type HttpServer } from '../../helpers/servers';

/** What the server saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A small API: echoes what it got as JSON, `/status/<code>` answers that status. */
async function startApi(): Promise<{ server: HttpServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(entry);
      const status = /^\/status\/(\d{3})$/.exec(entry.url)?.[1];
      if (status) {
        res.statusCode = Number(status);
        return void res.end(`status ${status}`);
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: entry.method, url: entry.url, body: entry.body }));
    });
  });
  return { server, seen };
}

let rt: TestRuntime;

afterEach(async () => {
  await rt?.close();
  await closeServers();
});

describe('u.http against a well-behaved server', () => {
  test('GET, POST JSON, PUT and DELETE reach the server and are timed as http.<METHOD> <path>', async () => {
    const { server, seen } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();

    const got = await u.http.get('/things');
    const posted = await u.http.post('/things', { name: 'a', n: 1 });
    const put = await u.http.put(`${server.url}/things/1`, 'plain text');
    const deleted = await u.http.delete('/things/1');

    expect([got.status, posted.status, put.status, deleted.status]).toEqual([200, 200, 200, 200]);
    expect([got.ok, posted.ok, put.ok, deleted.ok]).toEqual([true, true, true, true]);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /things', 'POST /things', 'PUT /things/1', 'DELETE /things/1']);
    // An object body is sent as JSON with its content type; a string is sent as it is.
    expect(seen[1].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[1].body)).toEqual({ name: 'a', n: 1 });
    expect(seen[2].body).toBe('plain text');
    expect(seen[2].headers['content-type']).toBeUndefined();
    expect(posted.json()).toEqual({ method: 'POST', url: '/things', body: '{"name":"a","n":1}' });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.timeMs).toBeGreaterThan(0);

    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['http.DELETE /things/1', 'http.GET /things', 'http.POST /things', 'http.PUT /things/1']);
    for (const name of metricNames(snap)) expect(latency(snap, name)?.count).toBe(1);
    expect(snap.ops).toBe(4);
    expect(snap.errors).toEqual({});
  });

  test('the name option groups URLs that carry ids into one metric', async () => {
    const { server } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    for (const id of [1, 2, 3]) await u.http.get(`/items/${id}`, { name: '/items/:id' });
    await u.http.post('/items/9', { a: 1 }, { name: '/items/:id' });

    const snap = rt.snapshot();
    expect(metricNames(snap)).toEqual(['http.GET /items/:id', 'http.POST /items/:id']);
    expect(latency(snap, 'http.GET /items/:id')?.count).toBe(3);
    expect(latency(snap, 'http.POST /items/:id')?.count).toBe(1);
  });

  test('the query option is added to the URL, not to the metric name', async () => {
    const { server, seen } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    await u.http.get('/search?lang=en', { query: { q: 'a b&c', page: 2, exact: true } });

    expect(seen[0].url).toBe('/search?lang=en&q=a+b%26c&page=2&exact=true');
    expect(metricNames(rt.snapshot())).toEqual(['http.GET /search']);
  });

  test('payload bytes are counted both ways', async () => {
    const { server } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const sent = JSON.stringify({ hello: 'wörld' });
    const res = await u.http.post('/echo', { hello: 'wörld' });
    const head = await u.http.head('/x');

    expect(head.body.length).toBe(0);
    const snap = rt.snapshot();
    expect(snap.bytes).toEqual({ sent: Buffer.byteLength(sent), received: res.body.length });
    expect(res.body.length).toBe(Buffer.byteLength(JSON.stringify({ method: 'POST', url: '/echo', body: sent })));
  });

  test('404 and 500 are returned, not thrown, with ok false and an error per status', async () => {
    const { server } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const notFound = await u.http.get('/status/404');
    const broken = await u.http.get('/status/500');
    const again = await u.http.get('/status/500');

    expect([notFound.status, broken.status, again.status]).toEqual([404, 500, 500]);
    expect([notFound.ok, broken.ok, again.ok]).toEqual([false, false, false]);
    expect(broken.text()).toBe('status 500');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'HTTP 404': 1, 'HTTP 500': 2 });
    expect(snap.ops).toBe(3);
    // The exchange itself completed: its latency is in the histogram.
    expect(latency(snap, 'http.GET /status/500')?.count).toBe(2);
  });

  test('expect decides which statuses count as success', async () => {
    const { server } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const gone = await u.http.get('/status/404', { expect: 404 });
    const either = await u.http.get('/status/201', { expect: [200, 201] });
    const strict = await u.http.get('/status/200', { expect: [201] });

    expect([gone.ok, either.ok, strict.ok]).toEqual([true, true, false]);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ 'HTTP 200': 1 });
    expect(snap.ops).toBe(3);
  });

  test('sequential requests reuse one keep-alive connection', async () => {
    const { server, seen } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    for (let i = 0; i < 20; i++) await u.http.get(`/n/${i}`, { name: '/n/:i' });

    expect(seen).toHaveLength(20);
    expect(server.accepted).toBe(1);
    expect(latency(rt.snapshot(), 'http.GET /n/:i')?.count).toBe(20);
  });
});

describe('u.http: what is prepared once per URL stays right per request', () => {
  test('one URL string with and without query, name, headers and body: each request as asked, each metric its own', async () => {
    const { server, seen } = await startApi();
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    await u.http.get('/p');
    await u.http.get('/p', { query: { a: 1 } });
    await u.http.get('/p', { name: '/named' });
    await u.http.get('/p', { headers: { 'x-one': '1' } });
    await u.http.post('/p', { k: 'v' });
    await u.http.get('/p');
    await rt.user({ id: 2 }).http.head('/p');

    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /p', 'GET /p?a=1', 'GET /p', 'GET /p', 'POST /p', 'GET /p', 'HEAD /p']);
    expect(seen.map((s) => s.headers['x-one'])).toEqual([undefined, undefined, undefined, '1', undefined, undefined, undefined]);
    expect(seen.map((s) => s.headers['content-type'])).toEqual([undefined, undefined, undefined, undefined, 'application/json', undefined, undefined]);
    expect(seen[4].body).toBe('{"k":"v"}');
    const snap = rt.snapshot();
    expect(latency(snap, 'http.GET /p')?.count).toBe(4);
    expect(latency(snap, 'http.GET /named')?.count).toBe(1);
    expect(latency(snap, 'http.POST /p')?.count).toBe(1);
    expect(latency(snap, 'http.HEAD /p')?.count).toBe(1);
    expect(snap.ops).toBe(7);
  });

  test('response headers as the server sent them: names lower-cased, a repeated header as a list', async () => {
    const server = await startHttpServer((_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Trace', 'abc');
      res.end('ok');
    });
    rt = createTestRuntime({ target: server.url });
    const res = await rt.user().http.get('/');

    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-trace']).toBe('abc');
    expect(res.text()).toBe('ok');
  });

  test('requests with different timeouts in flight together each end at their own deadline', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}`, timeoutMs: 10_000 });
    const ends: Record<string, number> = {};
    const t0 = performance.now();
    const one = (id: number, timeout: string) =>
      rt.user({ id }).http.get(`/hang/${id}`, { timeout }).catch((e: unknown) => {
        ends[timeout] = performance.now() - t0;
        return e;
      });
    const errs = await Promise.all([one(1, '600ms'), one(2, '200ms'), one(3, '400ms')]);

    expect(errs.map((e) => (e as LoadError).code)).toEqual(['ETIMEDOUT', 'ETIMEDOUT', 'ETIMEDOUT']);
    // Never before its own timeout, and the shorter ones not held back by the longer ones.
    expect(ends['200ms']).toBeGreaterThanOrEqual(195);
    expect(ends['400ms']).toBeGreaterThanOrEqual(395);
    expect(ends['600ms']).toBeGreaterThanOrEqual(595);
    expect(ends['200ms']).toBeLessThan(ends['400ms']);
    expect(ends['400ms']).toBeLessThan(ends['600ms']);
    expect(rt.snapshot().errors).toEqual({ ETIMEDOUT: 3 });
    await server.closedAtLeast(3);
  });
});

describe('u.http against servers that fail', () => {
  test('a server that never answers: ETIMEDOUT after the timeout option, counted once', async () => {
    const server = await startStallServer();
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}`, timeoutMs: 10_000 });
    const u = rt.user();
    const t0 = performance.now();
    const err = await u.http.get('/hang', { timeout: '300ms' }).catch((e: unknown) => e);
    const waited = performance.now() - t0;

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect((err as LoadError).recorded).toBe(true);
    expect((err as LoadError).message).toContain('GET');
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(800); // undici's own timers would take about 1 s
    // The engine ending the journey with this error must not count it a second time.
    recordJourneyFailure(rt.runtime, err);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.generatorErrors).toEqual({});
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
    // The client gave up on the connection: the server sees it close.
    await server.closedAtLeast(1);
  });

  test('a refused connection: ECONNREFUSED, counted once', async () => {
    const port = await refusedPort();
    rt = createTestRuntime({ target: `http://${HOST}:${port}` });
    const u = rt.user();
    const err = await u.http.post('/x', { a: 1 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNREFUSED');
    recordJourneyFailure(rt.runtime, err);
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNREFUSED: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
    expect(snap.bytes).toEqual({ sent: 0, received: 0 });
  });

  test('a response cut mid-body: a network code, counted once, not an exception', async () => {
    const server = await startHttpCutMidBody({ contentLength: 1000, bodyBytes: 10 });
    rt = createTestRuntime({ target: server.url });
    const u = rt.user();
    const err = await u.http.get('/partial').catch((e: unknown) => e);

    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('ECONNRESET');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
  });

  test('headers then a body that stalls: ETIMEDOUT, counted once', async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only the start');
    });
    rt = createTestRuntime({ target: server.url });
    const t0 = performance.now();
    const err = await rt.user().http.get('/stuck', { timeout: '300ms' }).catch((e: unknown) => e);

    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(800); // undici's own timers would take about 1 s
    expect((err as LoadError).code).toBe('ETIMEDOUT');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.ops).toBe(1);
    expect(snap.histograms).toEqual({});
  });

  test('the timeout bounds the whole exchange: a body trickled slower than it is ETIMEDOUT', async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': '20' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent === 20) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
    });
    rt = createTestRuntime({ target: server.url });
    const t0 = performance.now();
    const err = await rt.user().http.get('/trickle', { timeout: '300ms' }).catch((e: unknown) => e);
    const waited = performance.now() - t0;

    expect((err as LoadError).code).toBe('ETIMEDOUT');
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(800); // undici's own timers would take about 1 s
    expect(rt.snapshot().errors).toEqual({ ETIMEDOUT: 1 });
  });

  test('an answer slower than the timeout is an error even when it comes within a second', async () => {
    const server = await startHttpServer((_req, res) => setTimeout(() => res.end('late'), 600));
    rt = createTestRuntime({ target: server.url });
    const err = await rt.user().http.get('/slow', { timeout: '250ms' }).catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ETIMEDOUT');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
    expect(snap.histograms).toEqual({});
  });

  test('a server that hangs up on every request without answering: ECONNRESET', async () => {
    const server = await startTcpServer((socket) => socket.once('data', () => socket.destroy()));
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}` });
    const err = await rt.user().http.get('/').catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ECONNRESET');
    expect(rt.snapshot().errors).toEqual({ ECONNRESET: 1 });
  });

  test('a URL that cannot be parsed is an error, not a crash', async () => {
    rt = createTestRuntime({ target: 'tcp://nowhere:1' });
    const u = rt.user();
    const err = await u.http.get('/relative-without-http-base').catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('EINVALIDURL');
    expect(rt.snapshot().errors).toEqual({ EINVALIDURL: 1 });
  });
});

describe('u.http: connections and bytes equal what the server counted', () => {
  /** A runtime whose dispatcher is the worker's own (createHttpDispatcher), as run-worker.ts builds it. */
  function workerRuntime(target: string) {
    rt = createTestRuntime({ target });
    const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder: rt.recorder, keepAliveTimeoutMs: 10_000 });
    const runtime: Runtime = { ...rt.runtime, dispatcher };
    const users: VirtualUser[] = [];
    return {
      user: (id: number) => {
        const u = new VirtualUser(id, runtime, 1, 0);
        users.push(u);
        return u;
      },
      close: async () => {
        for (const u of users) u.scope.closeAll();
        await dispatcher.destroy();
      },
    };
  }

  test('every connection the agent opens is in the connections gauge and the http.connections counter', async () => {
    // `/bye` and `/once` answer with `connection: close`: the server ends that connection.
    const server = await startHttpServer((req, res) => {
      if (req.url !== '/keep') res.setHeader('connection', 'close');
      res.end('ok');
    });
    const w = workerRuntime(server.url);
    try {
      // Three users at once, two requests each, keep-alive: three connections, all still open.
      await Promise.all([1, 2, 3].map(async (id) => {
        const u = w.user(id);
        await u.http.get('/keep');
        await u.http.get('/keep');
      }));
      let snap = rt.snapshot();
      expect(server.accepted).toBe(3);
      expect(snap.counters['http.connections']).toBe(server.accepted);
      expect(snap.gauges.connectionsMax).toBe(server.accepted - server.closed);
      expect(snap.gauges.connections).toBe(server.accepted - server.closed);

      // The server closes each of them after one more answer: the gauge follows it down to 0.
      await Promise.all([1, 2, 3].map((id) => w.user(id + 10).http.get('/bye')));
      await server.closedAtLeast(3);
      for (let i = 0; i < 100 && rt.recorder.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 20));
      snap = rt.snapshot();
      expect(snap.gauges.connections).toBe(server.accepted - server.closed);
      expect(snap.gauges.connections).toBe(0);

      // No keep-alive: one connection per request, one at a time.
      const u = w.user(20);
      for (let i = 0; i < 4; i++) await u.http.get('/once');
      await server.closedAtLeast(7);
      for (let i = 0; i < 100 && rt.recorder.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 20));
      snap = rt.snapshot();
      expect(server.accepted).toBe(7);
      expect(snap.counters['http.connections']).toBe(4);
      expect(snap.gauges.connectionsMax).toBe(1);
      expect(snap.gauges.connections).toBe(0);
      expect(snap.ops).toBe(4);
    } finally {
      await w.close();
    }
  });

  test('with a connection limit, requests beyond it wait for a free connection (first come, first served): the server never sees more', async () => {
    let open = 0;
    let peak = 0;
    let requests = 0;
    const server = await startHttpServer((_req, res) => {
      requests++;
      setTimeout(() => res.end('ok'), 20);
    });
    rt = createTestRuntime({ target: server.url });
    const dispatcher = createHttpDispatcher({ connections: 2, sourceAddress: () => undefined, recorder: rt.recorder, keepAliveTimeoutMs: 10_000 });
    const runtime: Runtime = { ...rt.runtime, dispatcher };
    const probe = setInterval(() => {
      open = server.accepted - server.closed;
      peak = Math.max(peak, open);
    }, 2);
    try {
      const order: number[] = [];
      await Promise.all([1, 2, 3, 4, 5, 6].map(async (id) => {
        const u = new VirtualUser(id, runtime, 1, 0);
        for (let i = 0; i < 3; i++) await u.http.get('/');
        order.push(id);
      }));
      const snap = rt.snapshot();
      expect(requests).toBe(18);
      expect(snap.ops).toBe(18);
      expect(snap.errors).toEqual({});
      expect(server.accepted).toBe(2);
      expect(peak).toBeLessThanOrEqual(2);
      expect(snap.counters['http.connections']).toBe(2);
      expect(order).toHaveLength(6);
    } finally {
      clearInterval(probe);
      await dispatcher.destroy();
    }
  });

  test('connections leave from the source addresses the worker picks (--source-ips), as the server sees them', async () => {
    const remotes: string[] = [];
    const server = await startHttpServer((req, res) => {
      remotes.push(req.socket.remoteAddress ?? '');
      res.end('ok');
    });
    rt = createTestRuntime({ target: server.url });
    const picks = ['127.0.0.4', '127.0.0.5'];
    let next = 0;
    const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => picks[next++ % picks.length], recorder: rt.recorder });
    const runtime: Runtime = { ...rt.runtime, dispatcher };
    try {
      await Promise.all([1, 2].map((id) => new VirtualUser(id, runtime, 1, 0).http.get('/')));
      expect(server.accepted).toBe(2);
      expect(remotes.sort()).toEqual(['127.0.0.4', '127.0.0.5']);
    } finally {
      await dispatcher.destroy();
    }
  });

  test('a request still waiting for a connection when its timeout passes fails ETIMEDOUT and never reaches the server', async () => {
    const seen: string[] = [];
    const server = await startHttpServer((req, res) => {
      seen.push(req.url ?? '');
      setTimeout(() => res.end('ok'), 400);
    });
    rt = createTestRuntime({ target: server.url });
    const dispatcher = createHttpDispatcher({ connections: 1, sourceAddress: () => undefined, recorder: rt.recorder });
    const runtime: Runtime = { ...rt.runtime, dispatcher };
    try {
      const first = new VirtualUser(1, runtime, 1, 0).http.get('/first');
      const t0 = performance.now();
      const waited = await new VirtualUser(2, runtime, 1, 0).http.get('/second', { timeout: '100ms' }).catch((e: unknown) => e);
      expect((waited as LoadError).code).toBe('ETIMEDOUT');
      expect(performance.now() - t0).toBeLessThan(350);
      expect((await first).status).toBe(200);
      // The connection freed by /first is handed to the expired request, which undici drops before writing it.
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual(['/first']);
      expect(server.accepted).toBe(1);
      const snap = rt.snapshot();
      expect(snap.ops).toBe(2);
      expect(snap.errors).toEqual({ ETIMEDOUT: 1 });
      // And the connection serves the next request.
      expect((await new VirtualUser(3, runtime, 1, 0).http.get('/third')).status).toBe(200);
      expect(seen).toEqual(['/first', '/third']);
      expect(server.accepted).toBe(1);
    } finally {
      await dispatcher.destroy();
    }
  });

  test('after destroy(), a request fails at once with a code and no connection is opened', async () => {
    const server = await startHttpServer((_req, res) => res.end('ok'));
    rt = createTestRuntime({ target: server.url });
    const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder: rt.recorder });
    await dispatcher.destroy();
    const u = new VirtualUser(1, { ...rt.runtime, dispatcher }, 1, 0);
    const err = await u.http.get('/').catch((e: unknown) => e);
    expect((err as LoadError).code).toBe('UND_ERR_DESTROYED');
    expect(server.accepted).toBe(0);
    expect(rt.snapshot().errors).toEqual({ UND_ERR_DESTROYED: 1 });
  });

  test.each(['reset', 'close'] as const)('a response cut mid-body (%s): the body bytes that arrived count as received, the request as sent', async (how) => {
    let requestBytes = 0;
    let bodyBytesSent = 0;
    const server = await startTcpServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        requestBytes += length;
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n');
        const part = Buffer.alloc(3000, 0x62);
        socket.write(part, () => {
          bodyBytesSent += part.length;
          // A reset (RST) discards what the client has not read yet: it comes long after the
          // client could read the part. A close (FIN) comes after the part whenever it is read.
          if (how === 'reset') setTimeout(() => socket.resetAndDestroy(), 200);
          else socket.destroy();
        });
      });
    });
    rt = createTestRuntime({ target: `http://${HOST}:${server.port}` });
    const err = await rt.user().http.post('/upload', 'x'.repeat(1234)).catch((e: unknown) => e);

    expect((err as LoadError).code).toBe('ECONNRESET');
    const snap = rt.snapshot();
    expect(snap.errors).toEqual({ ECONNRESET: 1 });
    expect(snap.ops).toBe(1);
    expect(bodyBytesSent).toBe(3000);
    expect(requestBytes).toBe(1234);
    expect(snap.bytes).toEqual({ sent: requestBytes, received: bodyBytesSent });
  });
});
