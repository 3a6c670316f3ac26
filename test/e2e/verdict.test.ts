import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';
import { startHttpServer, startTcpServer, type HttpServer, type TcpServer } from '../helpers/servers';

/**
 * The verdict against independent counts: every total, rate, status and exit code below is
 * compared with what a loopback server counted itself, live and re-rendered.
 */
let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

const json = (stdout: string) => JSON.parse(stdout) as Report;

/** A loopback server answering every request 200, counting them. */
async function okServer(): Promise<{ server: HttpServer; seen: () => number }> {
  let n = 0;
  const server = await startHttpServer((_req, res) => {
    n++;
    res.end('ok');
  });
  return { server, seen: () => n };
}

/** A scenario of users making one GET / each, arriving at 10/s for `duration`. */
function getScenario(name: string, duration: string): string {
  return writeScenario(
    dir,
    `${name}.ts`,
    `import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: '${name}',
  load: { phases: [{ duration: '${duration}', arrivalRate: 10 }] },
  async user(u) { await u.http.get('/'); },
});`,
  );
}

describe('checks are not requests', () => {
  let server: HttpServer;
  let seen = 0;
  beforeAll(async () => {
    server = await startHttpServer((_req, res) => {
      seen++;
      res.statusCode = 503;
      res.end('down');
    });
  });
  afterAll(() => server.close());

  it('every request failed: requests equal the server count, error rate 100%, the errors threshold fails (exit 99)', async () => {
    const file = writeScenario(
      dir,
      'checks.ts',
      `import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'checks',
  load: { users: 3, duration: '1s', backoff: false },
  thresholds: { errors: ['rate < 0.6'] },
  async user(u) {
    const r = await u.http.get('/status/503');
    u.check('up', r.status === 200);
    await u.think(0.04);
  },
});`,
    );
    const store = path.join(dir, 'store-checks');
    const res = await runCli(['run', file, '--target', server.url, '--store', `file://${store}`, '--workers', '1', '--json']);
    const r = json(res.stdout);
    expect(seen).toBeGreaterThan(10);
    expect(r.requests).toBe(seen);
    expect(r.errors).toEqual({ 'HTTP 503': seen });
    expect(r.errorRate).toBe(1);
    expect(r.checks).toEqual({ up: { pass: 0, fail: seen } });
    expect(r.counters).toEqual({ 'http.connections': server.accepted });
    expect(r.thresholds).toEqual([{ metric: 'errors', expression: 'rate < 0.6', actual: 1, ok: false }]);
    expect(r.status).toBe('thresholds-failed');
    expect(res.code).toBe(99);

    // The text report says the same, and a re-render keeps status and exit code.
    const again = await runCli(['report', r.runId, '--store', `file://${store}`]);
    expect(again.code).toBe(99);
    expect(again.stdout).toContain(`requests ${seen} · errors ${seen} (100% of ${seen} requests)`);
    expect(again.stdout).toContain(`checks ${seen} · passed 0 (0%)`);
    expect(again.stdout).toMatch(/status: THRESHOLDS-FAILED \(exit 99\)/);
  });
});

describe('users cut at the grace deadline', () => {
  let server: TcpServer;
  let requests = 0;
  let replies = 0;
  beforeAll(async () => {
    // Answers each 4-byte request with its bytes after 3 s: longer than the grace.
    server = await startTcpServer((socket) => {
      socket.on('data', (chunk) => {
        for (let i = 0; i + 4 <= chunk.length; i += 4) {
          requests++;
          const reply = chunk.subarray(i, i + 4);
          setTimeout(() => {
            if (socket.writable) {
              replies++;
              socket.write(reply);
            }
          }, 3000).unref();
        }
      });
      socket.on('error', () => undefined);
    });
  });
  afterAll(() => server.close());

  it('each operation in flight is a CUT_IN_FLIGHT error, as many as the server left unanswered, and the status line says so', async () => {
    const file = writeScenario(
      dir,
      'cut.ts',
      `import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'cut',
  grace: '1s',
  load: { phases: [{ duration: '1s', arrivalRate: 10 }] },
  async user(u) {
    const conn = await u.tcp.connect(u.target);
    conn.write(Buffer.from('ping'));
    await conn.readExact(4, { name: 'echo' });
  },
});`,
    );
    const store = path.join(dir, 'store-cut');
    const res = await runCli(['run', file, '--target', server.address, '--store', `file://${store}`, '--workers', '2']);
    const runId = runsIn(store)[0];
    const r = JSON.parse(fs.readFileSync(path.join(store, 'runs', runId, 'report.json'), 'utf8')) as Report;
    const abandoned = requests - replies;
    expect(requests).toBe(10);
    expect(abandoned).toBe(10);
    expect(r.users).toMatchObject({ launched: 10, cut: 10 });
    expect(r.errors.CUT_IN_FLIGHT).toBe(abandoned);
    // 10 connects and 10 exchanges cut in flight.
    expect(r.requests).toBe(10 + abandoned);
    expect(r.errorRate).toBe(0.5);
    expect(res.stdout).toContain(`status: PASSED (exit 0) · 10 user(s) cut with ${abandoned} operation(s) in flight`);
    expect(res.stdout).toContain(`CUT_IN_FLIGHT: ${abandoned}`);
    expect(res.code).toBe(0);
  });
});

describe('a corrupt snapshot is named and the run is incomplete', () => {
  let server: HttpServer;
  let seen: () => number;
  beforeAll(async () => ({ server, seen } = await okServer()));
  afterAll(() => server.close());

  it('truncating a worker snapshot: report exits 2, names the object, and never counts fewer requests silently', async () => {
    const file = getScenario('corrupt', '1s');
    const store = path.join(dir, 'store-corrupt');
    const res = await runCli(['run', file, '--target', server.url, '--store', `file://${store}`, '--workers', '2', '--interval', '10s', '--json']);
    expect(res.code).toBe(0);
    expect(json(res.stdout).requests).toBe(seen());
    const runId = runsIn(store)[0];
    const snapDir = path.join(store, 'runs', runId, 'workers', '1', 'snapshots');
    const [only] = fs.readdirSync(snapDir);
    const full = fs.readFileSync(path.join(snapDir, only));
    fs.writeFileSync(path.join(snapDir, only), full.subarray(0, Math.floor(full.length / 2)));

    const again = await runCli(['report', runId, '--store', `file://${store}`, '--json']);
    const r = json(again.stdout);
    expect(again.code).toBe(2);
    expect(r.status).toBe('incomplete');
    expect(r.unusable).toEqual([{ key: `runs/${runId}/workers/1/snapshots/${only}`, reason: expect.stringMatching(/^not whole JSON/) }]);
    expect(r.warnings.join('\n')).toContain(`runs/${runId}/workers/1/snapshots/${only} could not be merged`);
    expect(r.requests).toBeLessThan(seen());

    // A snapshot of another worker copied in under worker 1's key is refused, named.
    const w0 = path.join(store, 'runs', runId, 'workers', '0', 'snapshots');
    fs.writeFileSync(path.join(snapDir, only), fs.readFileSync(path.join(w0, fs.readdirSync(w0)[0])));
    const forged = json((await runCli(['report', runId, '--store', `file://${store}`, '--json'])).stdout);
    expect(forged.status).toBe('incomplete');
    expect(forged.unusable[0].reason).toBe('says worker 0, but is stored under worker 1');
  });
});

describe('a re-render remembers how the run ended', () => {
  let server: HttpServer;
  let seen: () => number;
  beforeAll(async () => ({ server, seen } = await okServer()));
  afterAll(() => server.close());

  it('stopped with Ctrl-C: INCOMPLETE exit 2 live, and the same from `loadfarm report`, which leaves report.json as it was', async () => {
    const file = getScenario('stopped', '30s');
    const store = path.join(dir, 'store-stopped');
    const res = await runCli(['run', file, '--target', server.url, '--store', `file://${store}`, '--workers', '1', '--interval', '500ms'], {
      // Ctrl-C once the target has seen traffic (a busy machine may take seconds to start a worker).
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (seen() < 5) return;
          clearInterval(poll);
          child.kill('SIGINT');
        }, 50);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/status: INCOMPLETE \(exit 2\)/);
    const runId = runsIn(store)[0];
    const reportFile = path.join(store, 'runs', runId, 'report.json');
    const live = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
    expect(live.status).toBe('incomplete');
    expect(live.requests).toBe(seen());

    const again = await runCli(['report', runId, '--store', `file://${store}`]);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/status: INCOMPLETE \(exit 2\)/);
    expect(again.stdout).toContain('stopped early');
    const rerendered = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
    expect(rerendered.status).toBe('incomplete');
    expect(rerendered.exitCode).toBe(2);
    expect(rerendered.requests).toBe(seen());
  });
});

describe('closed-model runs and hold show the users launched', () => {
  it('users launched equals the users the server saw', async () => {
    const ids = new Set<string>();
    const server = await startHttpServer((req, res) => {
      ids.add(req.url ?? '');
      res.end('ok');
    });
    const file = writeScenario(
      dir,
      'closed.ts',
      `import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'closed',
  load: { users: 6, duration: '1s', rampUp: '300ms' },
  async user(u) { await u.http.get('/' + u.id); await u.think(0.1); },
});`,
    );
    const res = await runCli(['run', file, '--target', server.url, '--store', `file://${path.join(dir, 'store-closed')}`, '--workers', '2', '--json']);
    await server.close();
    const r = json(res.stdout);
    expect(ids.size).toBe(6);
    expect(r.users.launched).toBe(ids.size);
  });

  it('hold: users launched equals the connections the server accepted', async () => {
    let accepted = 0;
    const server = net.createServer((s) => {
      accepted++;
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const res = await runCli(['hold', `tcp://127.0.0.1:${port}`, '-c', '8', '--delay', '0', '--hold', '300ms', '--json', '--store', `file://${path.join(dir, 'store-hold')}`]);
    await new Promise((r) => server.close(r));
    const r = json(res.stdout);
    expect(accepted).toBe(8);
    expect(r.users.launched).toBe(accepted);
    expect(r.checks).toEqual({ 'held until the end': { pass: 8, fail: 0 } });
    expect(res.code).toBe(0);
  });
});

describe('a report while the run goes on', () => {
  it('`loadfarm report` during a run: status running, exit 2, numbers so far (never more than the server saw), report.json left for the run', async () => {
    const { server, seen } = await okServer();
    const file = getScenario('live', '5s');
    const store = path.join(dir, 'store-live');
    const running = runCli(['run', file, '--target', server.url, '--store', `file://${store}`, '--workers', '2', '--interval', '500ms', '--json']);
    let runId: string | undefined;
    for (let i = 0; i < 60 && !runId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runId = runsIn(store)[0];
    }
    await new Promise((r) => setTimeout(r, 2500));
    const live = await runCli(['report', runId!, '--store', `file://${store}`, '--json']);
    const seenThen = seen();
    const r = json(live.stdout);
    expect(live.code).toBe(2);
    expect(r.status).toBe('running');
    expect(r.workers.map((w) => w.state)).toEqual(['running', 'running']);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.requests).toBeLessThanOrEqual(seenThen);
    expect(fs.existsSync(path.join(store, 'runs', runId!, 'report.json'))).toBe(false);

    const done = await running;
    await server.close();
    expect(done.code).toBe(0);
    const final = JSON.parse(fs.readFileSync(path.join(store, 'runs', runId!, 'report.json'), 'utf8')) as Report;
    expect(final.status).toBe('passed');
    expect(final.requests).toBe(seen());
  });
});
