import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDemoTargets, type DemoTargets } from '../../cli/demo/targets';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';

let dir: string;
let targets: DemoTargets;

beforeAll(async () => {
  dir = tempDir();
  targets = await startDemoTargets();
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

describe('loadfarm run on the local farm', () => {
  it('3 workers: the report adds up over workers and matches what the target saw', async () => {
    const file = writeScenario(dir, 'http.ts', HTTP_SCENARIO);
    const store = path.join(dir, 'store-3w');
    const before = targets.seen.http;
    const res = await runCli(['run', file, '--workers', '3', '--target', targets.httpUrl, '--store', `file://${store}`, '--interval', '500ms', '--json', '--seed', '7']);
    expect(res.stderr).not.toMatch(/Error/);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('passed');
    expect(report.workers).toHaveLength(3);
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    // 30/s for 2 s = 60 users, split 20/20/20, each making 2 requests and 1 check.
    expect(report.arrivals.started).toBe(60);
    const gets = report.metrics['http.GET /items/:id'].count;
    const posts = report.metrics['http.POST /echo'].count;
    expect(gets).toBe(60);
    expect(posts).toBe(60);
    expect(targets.seen.http - before).toBe(gets + posts);
    expect(report.workers.reduce((a, w) => a + w.requests, 0)).toBe(report.requests);
    expect(report.requests).toBe(180); // 120 requests + 60 checks
    expect(report.counters['check echo: pass']).toBe(60);
    expect(report.workers.map((w) => w.identity)).toEqual([
      { first: 0, last: 19 },
      { first: 20, last: 39 },
      { first: 40, last: 59 },
    ]);
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
  });

  it('an unreachable target: errors counted by code, the run completes', async () => {
    const file = writeScenario(dir, 'refused.ts', HTTP_SCENARIO);
    const store = path.join(dir, 'store-refused');
    const res = await runCli(['run', file, '--workers', '2', '--target', 'http://127.0.0.1:9', '--store', store, '--interval', '500ms', '--json']);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done']);
    expect(report.errors).toEqual({ ECONNREFUSED: 60 });
    expect(report.requests).toBe(60);
    expect(report.status).toBe('thresholds-failed');
    expect(res.code).toBe(99);
    expect(report.thresholds.find((t) => t.metric === 'http.GET /items/:id')).toMatchObject({ ok: false, message: 'no metric named http.GET /items/:id was recorded' });
  });

  it('a worker killed mid-run: the report is built from its snapshots, run incomplete, exit 2', async () => {
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
    const res = await runCli(['run', file, '--workers', '2', '--target', targets.httpUrl, '--store', store, '--interval', '500ms', '--json']);
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
    // Worker 0 ran its whole share (40 users × 3 ops); worker 1's snapshots count as well.
    expect(report.workers[0].requests).toBe(120);
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

    const target = await runCli(['run', file.replace('bad.ts', 'http.ts'), '--target', 'localhost:80', '--store', store]);
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
  it('keeps every operation: the events add up to the report, metric by metric', async () => {
    const { gunzipSync } = await import('node:zlib');
    const file = writeScenario(dir, 'raw.ts', HTTP_SCENARIO);
    const store = path.join(dir, 'store-raw');
    const res = await runCli(['run', file, '--workers', '2', '--target', targets.httpUrl, '--store', store, '--interval', '500ms', '--json', '--raw-events']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    const events: { w: number; u: number; m: string; ok: boolean; code?: string }[] = [];
    for (const w of [0, 1]) {
      const wdir = path.join(store, 'runs', report.runId, 'workers', String(w));
      for (const f of fs.readdirSync(wdir).filter((f) => f.startsWith('events-')).sort()) {
        for (const line of gunzipSync(fs.readFileSync(path.join(wdir, f))).toString().trim().split('\n')) events.push(JSON.parse(line));
      }
    }
    expect(events).toHaveLength(report.requests);
    for (const [name, m] of Object.entries(report.metrics)) {
      if (name.startsWith('loadfarm.')) continue;
      expect(events.filter((e) => e.m === name).length).toBe(m.count);
    }
    expect(events.filter((e) => e.m === 'check echo' && e.ok).length).toBe(report.counters['check echo: pass']);
    expect(new Set(events.filter((e) => e.w === 1).map((e) => e.u)).size).toBe(30);
    expect(report.counters['loadfarm.raw_events_dropped']).toBeUndefined();
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
