import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { rmTemp, runCli, tempDir } from '../helpers/cli';

/**
 * `loadfarm import har` on a recording shaped like a Chromium export, then `loadfarm validate`
 * of the generated scenario against a loopback shop that issues its OWN token, session and
 * order id: the replay only passes when the scenario reads them from the responses.
 */

const REC = {
  origin: 'https://shop.example.test',
  token: 'rec0token5f3a9c2e7b1d4a6f8e0c2b4d',
  session: 'sess-rec-8c1f2a9e',
  orderId: 91234,
};

type Hdr = { name: string; value: string };
let clock = Date.parse('2026-11-20T10:00:00.000Z');

/** One entry as Chromium writes it: HTTP/2 pseudo headers, sec-* headers, timings, _resourceType. */
function entry(o: { method?: string; url: string; type: string; headers?: Hdr[]; body?: { mimeType: string; text: string }; status?: number; resHeaders?: Hdr[]; resBody?: { mimeType: string; text: string }; gapMs?: number }) {
  clock += o.gapMs ?? 5;
  const u = new URL(o.url);
  const started = new Date(clock).toISOString();
  clock += 40;
  return {
    _initiator: { type: 'other' },
    _priority: 'High',
    _resourceType: o.type,
    cache: {},
    connection: '443',
    pageref: 'page_1',
    request: {
      method: o.method ?? 'GET',
      url: o.url,
      httpVersion: 'http/2.0',
      headers: [
        { name: ':authority', value: u.host },
        { name: ':method', value: o.method ?? 'GET' },
        { name: ':path', value: u.pathname + u.search },
        { name: ':scheme', value: 'https' },
        { name: 'accept', value: o.type === 'document' ? 'text/html,application/xhtml+xml' : 'application/json' },
        { name: 'accept-encoding', value: 'gzip, deflate, br, zstd' },
        { name: 'accept-language', value: 'en-GB,en;q=0.9' },
        { name: 'sec-ch-ua', value: '"Chromium";v="131"' },
        { name: 'sec-fetch-mode', value: o.type === 'document' ? 'navigate' : 'cors' },
        { name: 'user-agent', value: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0' },
        ...(o.headers ?? []),
      ],
      queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
      cookies: [],
      headersSize: -1,
      bodySize: o.body ? o.body.text.length : 0,
      ...(o.body ? { postData: o.body } : {}),
    },
    response: {
      status: o.status ?? 200,
      statusText: '',
      httpVersion: 'http/2.0',
      headers: o.resHeaders ?? [],
      cookies: [],
      content: { size: o.resBody?.text.length ?? 0, mimeType: o.resBody?.mimeType ?? 'text/html', ...(o.resBody ? { text: o.resBody.text } : {}) },
      redirectURL: o.resHeaders?.find((h) => h.name === 'location')?.value ?? '',
      headersSize: -1,
      bodySize: -1,
      _transferSize: 100,
    },
    serverIPAddress: '192.0.2.10',
    startedDateTime: started,
    time: 40,
    timings: { blocked: 1, dns: -1, ssl: -1, connect: -1, send: 0, wait: 38, receive: 1 },
  };
}

function recording() {
  const auth = { name: 'authorization', value: `Bearer ${REC.token}` };
  const json = { name: 'content-type', value: 'application/json' };
  return {
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      pages: [{ startedDateTime: new Date(clock).toISOString(), id: 'page_1', title: 'Shop', pageTimings: {} }],
      entries: [
        entry({ url: `${REC.origin}/account`, type: 'document', status: 302, resHeaders: [{ name: 'location', value: '/login' }] }),
        entry({ url: `${REC.origin}/login`, type: 'document', resBody: { mimeType: 'text/html', text: '<html>login</html>' } }),
        entry({ url: `${REC.origin}/static/app.js`, type: 'script', resBody: { mimeType: 'application/javascript', text: '1' } }),
        entry({ url: `${REC.origin}/static/site.css`, type: 'stylesheet', resBody: { mimeType: 'text/css', text: 'a{}' } }),
        entry({ url: 'https://fonts.example.net/inter.woff2', type: 'font' }),
        entry({ url: `${REC.origin}/static/logo.png`, type: 'image', resBody: { mimeType: 'image/png', text: 'iVBORw0KGgo=' } }),
        entry({
          method: 'POST',
          url: `${REC.origin}/api/login`,
          type: 'fetch',
          gapMs: 300,
          headers: [json],
          body: { mimeType: 'application/json', text: JSON.stringify({ user: 'ann', password: 'pw-1234' }) },
          resHeaders: [{ name: 'set-cookie', value: `session=${REC.session}; Path=/; HttpOnly` }, json],
          resBody: { mimeType: 'application/json', text: JSON.stringify({ token: REC.token, user: { id: 4711, name: 'Ann' } }) },
        }),
        entry({ url: `${REC.origin}/search?q=red+shoes&page=2`, type: 'xhr', gapMs: 250, headers: [auth], resBody: { mimeType: 'application/json', text: '{"results":[]}' } }),
        entry({
          method: 'POST',
          url: `${REC.origin}/api/orders`,
          type: 'fetch',
          headers: [auth, json],
          body: { mimeType: 'application/json', text: JSON.stringify({ sku: 'SKU-77', qty: 2 }) },
          status: 201,
          resBody: { mimeType: 'application/json', text: JSON.stringify({ order: { id: REC.orderId, total: 59.9 } }) },
        }),
        entry({
          url: `${REC.origin}/api/orders/${REC.orderId}`,
          type: 'fetch',
          headers: [auth, { name: 'cookie', value: `session=${REC.session}; theme=dark` }],
          resBody: { mimeType: 'application/json', text: JSON.stringify({ id: REC.orderId, state: 'new' }) },
        }),
      ],
    },
  };
}

interface Seen {
  line: string;
  authorization?: string;
  cookie?: string;
  body: string;
}

/** The shop: its own token, session and order id; every request logged in order of arrival. */
async function startShop() {
  const issued = { token: randomBytes(16).toString('hex'), session: `s-${randomBytes(6).toString('hex')}`, orderId: 50000 + Math.floor(Math.random() * 40000) };
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ line: `${req.method} ${req.url}`, authorization: req.headers.authorization, cookie: req.headers.cookie, body });
      const authed = req.headers.authorization === `Bearer ${issued.token}`;
      const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(value === undefined ? '' : JSON.stringify(value));
      };
      if (req.url === '/account') return send(302, undefined, { location: '/login' });
      if (req.url === '/login') return send(200, 'login');
      if (req.method === 'POST' && req.url === '/api/login') {
        return send(200, { token: issued.token, user: { id: 777, name: 'Ann' } }, { 'set-cookie': `session=${issued.session}; Path=/; HttpOnly` });
      }
      if (req.url?.startsWith('/search')) return send(authed ? 200 : 401, { results: [] });
      if (req.method === 'POST' && req.url === '/api/orders') return send(authed ? 201 : 401, { order: { id: issued.orderId, total: 59.9 } });
      if (req.url === `/api/orders/${issued.orderId}`) {
        return send(authed && req.headers.cookie === `session=${issued.session}; theme=dark` ? 200 : 403, { id: issued.orderId });
      }
      send(404);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    issued,
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let dir: string;
beforeAll(() => (dir = tempDir('loadfarm-har-')));
afterAll(() => rmTemp(dir));

describe('loadfarm import har', () => {
  it('a browser recording becomes a scenario that replays the same requests, in order, wiring the token, session and order id from the responses', async () => {
    const har = path.join(dir, 'shop.har');
    fs.writeFileSync(har, JSON.stringify(recording(), null, 2));
    const out = path.join(dir, 'shop.ts');
    const imported = await runCli(['import', 'har', har, '-o', out]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/wrote .*shop\.ts: 6 requests from https:\/\/shop\.example\.test, \d+ values wired from responses, 3 static assets dropped, 1 requests to other hosts dropped/);
    const code = fs.readFileSync(out, 'utf8');
    // Where each wired value came from is said next to it; ids in paths are grouped into one metric name.
    expect(code).toMatch(/\/\/ token: from the JSON body of response 3 \(POST \/api\/login\), at token; first sent by request 4/);
    expect(code).toMatch(/\/\/ sessionCookie: the cookie session that response 3 \(POST \/api\/login\) sets/);
    expect(code).toMatch(/\/\/ orderId: from the JSON body of response 5 \(POST \/api\/orders\), at order\.id/);
    expect(code).toContain("name: '/api/orders/:id'");
    expect(code).not.toContain(REC.token);
    expect(code).not.toContain('user-agent');

    const shop = await startShop();
    try {
      const res = await runCli(['validate', out, '--target', shop.url]);
      expect(res.stderr).toBe('');
      expect(res.stdout).toMatch(/one user: ok\n$/);
      expect(res.code).toBe(0);
      expect(shop.seen.map((s) => s.line)).toEqual([
        'GET /account',
        'GET /login',
        'POST /api/login',
        'GET /search?q=red+shoes&page=2',
        'POST /api/orders',
        `GET /api/orders/${shop.issued.orderId}`,
      ]);
      expect(JSON.parse(shop.seen[2].body)).toEqual({ user: 'ann', password: 'pw-1234' });
      expect(JSON.parse(shop.seen[4].body)).toEqual({ sku: 'SKU-77', qty: 2 });
      for (const s of shop.seen.slice(3)) expect(s.authorization).toBe(`Bearer ${shop.issued.token}`);
      expect(shop.seen[5].cookie).toBe(`session=${shop.issued.session}; theme=dark`);
    } finally {
      await shop.close();
    }
  });

  it('--keep-static keeps the assets of the recorded host; --include-host adds another host', async () => {
    const har = path.join(dir, 'shop2.har');
    fs.writeFileSync(har, JSON.stringify(recording()));
    const res = await runCli(['import', 'har', har, '--keep-static', '--include-host', 'shop.example.test', '--include-host', 'fonts.example.net']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("u.http.get('/static/app.js'");
    expect(res.stdout).toContain("u.http.get('https://fonts.example.net/inter.woff2'");
    expect(res.stderr).toMatch(/10 requests from https:\/\/shop\.example\.test/);
  });

  it('a file that is not a HAR: one line saying what was expected, exit 1', async () => {
    const bad = path.join(dir, 'bad.har');
    fs.writeFileSync(bad, '{"entries": []}');
    const res = await runCli(['import', 'har', bad]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`loadfarm: import har: ${bad} has no log.entries: expected a HAR 1.2 file ({ "log": { "entries": [...] } })\n`);
  });
});
