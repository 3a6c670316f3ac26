import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDemoTargets, type DemoTargets } from '../../cli/demo/targets';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';
import { startCountingHttpServer, type CountingHttpServer } from '../helpers/counting-servers';

let dir: string;
let targets: DemoTargets;
/** This test's own target: its counters are what the report must equal. */
let server: CountingHttpServer | undefined;

beforeAll(async () => {
  dir = tempDir();
  targets = await startDemoTargets();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await targets.close();
  rmTemp(dir);
});

const HTTP_SCENARIO = `
import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'e2e-http',
  load: { phases: [{ duration: '2s', arrivalRate: 30 }] },
  thresholds: { 'http.GET /items/:id': ['p(99) < 1000'], errors: ['rate < 0.01'] },
  async user(u) {
    await u.http.get('/items/' + u.id, { name: '/items/:id' });
    const r = await u.http.post('/echo', { id: u.id });
    u.check('echo', r.json().id === u.id);
  },
});
`;

/** HTTP_SCENARIO plus one GET /status/503 for every fourth user: 15 of 60 users, 135 requests in all. */
const MIXED_SCENARIO = `
import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'e2e-mixed',
  load: { phases: [{ duration: '2s', arrivalRate: 30 }] },
  thresholds: { 'http.GET /items/:id': ['p(99) < 1000'], errors: ['rate < 0.2'], checks: ['rate == 1'] },
  async user(u) {
    await u.http.get('/items/' + u.id, { name: '/items/:id' });
    const r = await u.http.post('/echo', { id: u.id });
    u.check('echo', r.json().id === u.id);
    if (u.id % 4 === 0) await u.http.get('/status/503?u=' + u.id, { name: '/status/:code' });
  },
});
`;

describe('loadfarm run on the local farm', () => {
  it('3 workers: requests, errors by code and the error rate equal what the target counted, live and re-rendered', async () => {
    const target = (server = await startCountingHttpServer());
    const file = writeScenario(dir, 'mixed.ts', MIXED_SCENARIO);
    const store = path.join(dir, 'store-3w');
    const res = await runCli(['run', file, '--workers', '3', '--target', target.url, '--store', `file://${store}`, '--interval', '500ms', '--json', '--seed', '7']);
    expect(res.stderr).not.toMatch(/Error/);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('passed');
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    // 30/s for 2 s = 60 users, split 20/20/20: each GET /items and POST /echo, every fourth GET /status/503.
    expect(target.requests).toBe(135);
    expect(target.byStatus).toEqual({ 200: 120, 503: 15 });
    expect(report.arrivals.started).toBe(60);
    expect(report.users.launched).toBe(target.byUser.size);
    expect(report.requests).toBe(target.requests);
    expect(report.errors).toEqual({ 'HTTP 503': target.byStatus[503] });
    expect(report.generatorErrors).toEqual({});
    expect(report.errorRate).toBe(target.errorResponses() / target.requests);
    expect(report.metrics['http.GET /items/:id'].count).toBe(target.byRoute['GET /items/:id']);
    expect(report.metrics['http.POST /echo'].count).toBe(target.byRoute['POST /echo']);
    expect(report.metrics['http.GET /status/:code'].count).toBe(target.byRoute['GET /status/:code']);
    // Checks are their own family: one per echo the target answered, never a request.
    expect(report.checks).toEqual({ echo: { pass: target.byRoute['POST /echo'], fail: 0 } });
    expect(report.workers.map((w) => w.identity)).toEqual([
      { first: 0, last: 19 },
      { first: 20, last: 39 },
      { first: 40, last: 59 },
    ]);
    // Each worker's figure is what the target received from that worker's users.
    for (const w of report.workers) expect(w.requests).toBe(target.requestsFromUsers(w.identity.first, w.identity.last));
    for (const w of report.workers) expect(w.errors).toBe([...Array(20).keys()].filter((i) => (w.identity.first + i) % 4 === 0).length);
    expect(report.workers.map((w) => w.seed)).toEqual([7, 8, 9]);
    expect(report.thresholds.every((t) => t.ok)).toBe(true);
    // The report is kept with the run, and `loadfarm report` merges the same numbers again.
    const [runId] = runsIn(store);
    expect(runId).toBe(report.runId);
    const again = await runCli(['report', runId, '--store', `file://${store}`, '--json']);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as Report;
    expect(second.metrics).toEqual(report.metrics);
    expect(second.status).toBe('passed');
    expect(second.requests).toBe(target.requests);
    expect(second.errors).toEqual({ 'HTTP 503': target.byStatus[503] });
    expect(second.errorRate).toBe(target.errorResponses() / target.requests);
    expect(second.checks).toEqual(report.checks);
  });

  it('an unreachable target: errors counted by code, the run completes', async () => {
    const file = writeScenario(dir, 'refused.ts', HTTP_SCENARIO);
    const store = path.join(dir, 'store-refused');
    const res = await runCli(['run', file, '--workers', '2', '--target', 'http://127.0.0.1:9', '--store', store, '--interval', '500ms', '--json']);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done']);
    // Nothing listens: the first GET of each of the 60 users is refused and ends its journey.
    expect(report.errors).toEqual({ ECONNREFUSED: 60 });
    expect(report.requests).toBe(60);
    expect(report.errorRate).toBe(1);
    expect(report.checks).toEqual({});
    expect(report.status).toBe('thresholds-failed');
    expect(res.code).toBe(99);
    expect(report.thresholds.find((t) => t.metric === 'http.GET /items/:id')).toMatchObject({ ok: false, message: 'no metric named http.GET /items/:id was recorded' });
  });

  it('a worker killed mid-run: the report is built from its snapshots, run incomplete, exit 2', async () => {
    const target = (server = await startCountingHttpServer());
    const file = writeScenario(
      dir,
      'long.ts',
      HTTP_SCENARIO.replace("duration: '2s', arrivalRate: 30", "duration: '4s', arrivalRate: 20"),
    );
    const store = path.join(dir, 'store-kill');
    let killed = false;
    const watcher = setInterval(() => {
      const [runId] = runsIn(store);
      if (!runId || killed) return;
      const snaps = path.join(store, 'runs', runId, 'workers', '1', 'snapshots');
      const status = path.join(store, 'runs', runId, 'workers', '1', 'status.json');
      if (fs.existsSync(snaps) && fs.readdirSync(snaps).filter((f) => f.endsWith('.json')).length >= 2 && fs.existsSync(status)) {
        killed = true;
        process.kill(JSON.parse(fs.readFileSync(status, 'utf8')).pid, 'SIGKILL');
      }
    }, 50);
    const res = await runCli(['run', file, '--workers', '2', '--target', target.url, '--store', store, '--interval', '500ms', '--json']);
    clearInterval(watcher);
    expect(killed).toBe(true);
    expect(res.code).toBe(2);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('incomplete');
    expect(report.workers[0].state).toBe('done');
    expect(report.workers[1]).toMatchObject({ state: 'lost' });
    expect(report.workers[1].message).toMatch(/killed by SIGKILL/);
    expect(report.workers[1].snapshots).toBeGreaterThanOrEqual(2);
    expect(report.workers[1].requests).toBeGreaterThan(0);
    // 80 users split 40/40. Worker 0 ran its whole share: what the target got from users 0-39.
    expect(report.workers[0].identity).toEqual({ first: 0, last: 39 });
    expect(target.requestsFromUsers(0, 39)).toBe(80);
    expect(report.workers[0].requests).toBe(target.requestsFromUsers(0, 39));
    // Worker 1's snapshots cover part of what it sent: never more than the target got from it.
    expect(report.workers[1].requests).toBeLessThanOrEqual(target.requestsFromUsers(40, 79));
    expect(report.requests).toBe(report.workers[0].requests + report.workers[1].requests);
  });

  it('bad input: one line per problem, exit 1, nothing launched', async () => {
    const file = writeScenario(dir, 'bad.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({ name: 'bad', load: { phases: [{ duration: '1s', arrivalRate: 'fast' }] }, user: async () => {} });
    `);
    const store = path.join(dir, 'store-bad');
    const res = await runCli(['run', file, '--target', 'http://127.0.0.1:9', '--store', store]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([`loadfarm: scenario ${file} is not valid: load.phases[0].arrivalRate: expected a number >= 0, got "fast"`]);
    expect(runsIn(store)).toEqual([]);

    const flags = await runCli(['run', file, '--workers', 'many', '--stagger', 'soon', '--store', store]);
    expect(flags.code).toBe(1);
    expect(flags.stderr.trim().split('\n')).toEqual([
      'loadfarm: --workers: expected a whole number from 1 to 1024, got "many"',
      'loadfarm: --stagger: expected a duration like 2s, 500ms or 1m, got "soon"',
    ]);

    const missing = await runCli(['run', path.join(dir, 'nope.ts')]);
    expect(missing.stderr.trim()).toBe(`loadfarm: scenario ${path.join(dir, 'nope.ts')}: no such file`);

    const syntax = writeScenario(dir, 'syntax.ts', 'export default {{;');
    const broken = await runCli(['run', syntax, '--store', store]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^loadfarm: scenario .*syntax.ts does not build: .*syntax.ts:1:\d+: /);

    const good = writeScenario(dir, 'http.ts', HTTP_SCENARIO);
    const target = await runCli(['run', good, '--target', 'localhost:80', '--store', store]);
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/--target: expected a URL like http:\/\/127.0.0.1:8080/);
    expect(runsIn(store)).toEqual([]);
  });

  it('validate runs one user once and says what it recorded', async () => {
    const file = writeScenario(dir, 'v.ts', HTTP_SCENARIO);
    const before = targets.seen.http;
    const res = await runCli(['validate', file, '--target', targets.httpUrl]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/scenario e2e-http: valid/);
    expect(res.stdout).toMatch(/http.GET \/items\/:id: 1 ×/);
    expect(res.stdout).toMatch(/one user: ok/);
    expect(targets.seen.http - before).toBe(2);
  });
});

describe('loadfarm run --raw-events', () => {
  it('keeps every operation: the events equal what the target counted, route by route and user by user', async () => {
    const { gunzipSync } = await import('node:zlib');
    const target = (server = await startCountingHttpServer());
    const file = writeScenario(dir, 'raw.ts', MIXED_SCENARIO);
    const store = path.join(dir, 'store-raw');
    const res = await runCli(['run', file, '--workers', '2', '--target', target.url, '--store', store, '--interval', '500ms', '--json', '--raw-events']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    const events: { w: number; u: number; m: string; ok: boolean; code?: string }[] = [];
    for (const w of [0, 1]) {
      const wdir = path.join(store, 'runs', report.runId, 'workers', String(w));
      for (const f of fs.readdirSync(wdir).filter((f) => f.startsWith('events-')).sort()) {
        for (const line of gunzipSync(fs.readFileSync(path.join(wdir, f))).toString().trim().split('\n')) events.push(JSON.parse(line));
      }
    }
    expect(report.counters['loadfarm.raw_events_dropped']).toBeUndefined();
    // Operations are every event but the checks' (kept too, named `check <name>`).
    const ops = events.filter((e) => !e.m.startsWith('check '));
    expect(target.requests).toBe(135);
    expect(ops).toHaveLength(target.requests);
    expect(ops.filter((e) => e.m === 'http.GET /items/:id')).toHaveLength(target.byRoute['GET /items/:id']);
    expect(ops.filter((e) => e.m === 'http.POST /echo')).toHaveLength(target.byRoute['POST /echo']);
    expect(ops.filter((e) => e.m === 'http.GET /status/:code')).toHaveLength(target.byRoute['GET /status/:code']);
    expect(ops.filter((e) => !e.ok)).toHaveLength(target.errorResponses());
    expect(ops.filter((e) => e.code === 'HTTP 503')).toHaveLength(target.byStatus[503]);
    // User by user: each user's events are the requests the target got from that user.
    const perUser = new Map<number, number>();
    for (const e of ops) perUser.set(e.u, (perUser.get(e.u) ?? 0) + 1);
    expect(new Map([...perUser].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...target.byUser].sort((a, b) => a[0] - b[0])));
    expect(new Set(ops.filter((e) => e.w === 1).map((e) => e.u))).toEqual(new Set([...target.byUser.keys()].filter((id) => id >= 30 && id <= 59)));
    // One passed check per echo the target answered.
    expect(events.filter((e) => e.m === 'check echo' && e.ok)).toHaveLength(target.byRoute['POST /echo']);
    expect(events.filter((e) => e.m === 'check echo' && !e.ok)).toHaveLength(0);
  });
});

describe('a saturated generator', () => {
  it('is flagged in the report, next to the numbers it measured', async () => {
    const file = writeScenario(dir, 'busy.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'busy',
        load: { users: 4, duration: '2s' },
        async user(u) {
          // Blocks the event loop: a generator that cannot keep up.
          await u.time('busy', () => { const end = Date.now() + 80; while (Date.now() < end); });
        },
      });
    `);
    const res = await runCli(['run', file, '--workers', '1', '--target', 'http://127.0.0.1:9', '--store', path.join(dir, 'store-busy'), '--interval', '500ms', '--json']);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.workers[0].health.saturated).toBe(true);
    // Lag, not CPU, is what shows here: on a busy machine the worker may not get a whole core.
    expect(report.workers[0].health.loopLagMaxMs).toBeGreaterThan(50);
    expect(report.metrics.busy.saturatedShare).toBeGreaterThan(0.5);
    expect(report.warnings.join('\n')).toMatch(/worker 0 was saturated in \d+ of \d+ intervals/);
  });
});
