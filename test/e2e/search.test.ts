import * as path from 'node:path';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, tempDir, writeScenario } from '../helpers/cli';
import { closeServers, startHttpServer } from '../helpers/servers';

/**
 * Breaking-point search and abort on fail on the local farm, judged by what loopback servers
 * counted themselves: when each request came, from which worker (a header the scenario sets).
 */
jest.setTimeout(90_000);

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));
afterEach(() => closeServers());

const json = (stdout: string) => JSON.parse(stdout) as Report;
const seen: { at: number; worker: string }[] = [];
beforeEach(() => (seen.length = 0));

/** A target of known capacity: SLOTS requests served at once, each for SERVICE_MS; the rest queue. */
const SLOTS = 8;
const SERVICE_MS = 100;
const CAPACITY = (SLOTS * 1000) / SERVICE_MS; // 80 requests/s

function slotServer() {
  let busy = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    while (busy < SLOTS && queue.length > 0) {
      busy++;
      const serve = queue.shift()!;
      setTimeout(() => {
        serve();
        busy--;
        next();
      }, SERVICE_MS);
    }
  };
  return startHttpServer((req, res) => {
    seen.push({ at: Date.now(), worker: String(req.headers['x-worker']) });
    queue.push(() => res.end('ok'));
    next();
  });
}

const scenario = (name: string, load: string, thresholds: string, body = `await u.http.get('/', { headers: { 'x-worker': String(u.worker) } });`) =>
  writeScenario(
    dir,
    `${name}.ts`,
    `import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: '${name}',
  load: ${load},
  thresholds: ${thresholds},
  grace: '2s',
  async user(u) { ${body} },
});`,
  );

const run = (file: string, url: string, store: string, workers = 2) =>
  runCli(['run', file, '--target', url, '--store', `file://${path.join(dir, store)}`, '--workers', String(workers), '--interval', '500ms', '--json'], { timeoutMs: 80_000 });

it(`finds the knee of a ${SLOTS}-slot × ${SERVICE_MS} ms target (capacity ${CAPACITY}/s) within ±15% on 2 workers, the workers in step`, async () => {
  const server = await slotServer();
  const file = scenario('knee', "{ find: { from: 40, to: 400, step: '+40%', stepDuration: '2s', refine: 2 } }", "{ 'http.*': ['p(90) < 250'] }");
  const res = await run(file, server.url, 'knee');
  const r = json(res.stdout);
  const limit = r.limit!;
  // The steps come with the status, so a failure shows what each step measured.
  const steps = limit.steps.map((s) => `${s.offered}/s: ${s.verdict} p50 ${s.p50} p95 ${s.p95} achieved ${s.achieved}/s cpu ${s.health.cpuMaxPct}%`);
  expect({ status: limit.status, steps }).toEqual({ status: 'limit-found', steps });
  expect(res.code).toBe(0);
  expect(limit.sustained!).toBeGreaterThanOrEqual(CAPACITY * 0.85);
  expect(limit.sustained!).toBeLessThanOrEqual(CAPACITY * 1.15);
  expect(limit.brokeAt!).toBeGreaterThan(limit.sustained!);
  expect(limit.steps.map((s) => s.offered).slice(0, 3)).toEqual([40, 56, 78.4]);
  expect(limit.steps.filter((s) => s.refine).length).toBeLessThanOrEqual(2);
  // What the server counted in each step's window: the offered rate, half from each worker.
  for (const s of limit.steps) {
    const inStep = seen.filter((q) => q.at >= s.startAt && q.at < s.endAt);
    const expected = (s.offered * (s.endAt - s.startAt)) / 1000;
    expect(Math.abs(inStep.length - expected)).toBeLessThanOrEqual(Math.max(3, expected * 0.15));
    for (const w of ['0', '1']) {
      const mine = inStep.filter((q) => q.worker === w).length;
      expect(Math.abs(mine - expected / 2)).toBeLessThanOrEqual(Math.max(3, expected * 0.15));
    }
  }
  // Between steps (the CLI deciding) no new arrivals: every request the server saw was in a step window (± in-flight timing).
  // The warm-up (2 s, a step's length) comes right before the first step.
  const windows = [{ startAt: limit.steps[0].startAt - 2000, endAt: limit.steps[0].startAt }, ...limit.steps];
  const outside = seen.filter((q) => !windows.some((s) => q.at >= s.startAt - 5 && q.at < s.endAt + 50));
  expect(outside).toEqual([]);
});

it('a target that fails from the first step: first-step-broke, brokeAt = from, exit 99', async () => {
  const server = await startHttpServer((req, res) => {
    seen.push({ at: Date.now(), worker: String(req.headers['x-worker']) });
    res.statusCode = 503;
    res.end('down');
  });
  const file = scenario('down', "{ find: { from: 20, to: 200, stepDuration: '1s' } }", "{ errors: ['rate < 0.05'] }");
  const res = await run(file, server.url, 'down');
  const r = json(res.stdout);
  expect(r.limit).toMatchObject({ status: 'first-step-broke', sustained: null, brokeAt: 20 });
  expect(r.limit!.steps).toHaveLength(1);
  expect(r.limit!.steps[0].broke[0]).toMatchObject({ metric: 'errors', expression: 'rate < 0.05', actual: 1 });
  expect(r.requests).toBe(seen.length);
  expect(res.code).toBe(99);
  // A re-render reaches the same verdict from the store.
  const again = await runCli(['report', r.runId, '--store', `file://${path.join(dir, 'down')}`, '--json']);
  expect(again.code).toBe(99);
  expect(json(again.stdout)).toMatchObject({ status: r.status, exitCode: 99, limit: { status: 'first-step-broke', sustained: null, brokeAt: 20 } });
});

it('a generator saturated by a busy journey: generator-limited with the workers it needs, exit 2', async () => {
  const server = await startHttpServer((req, res) => {
    seen.push({ at: Date.now(), worker: String(req.headers['x-worker']) });
    res.end('ok');
  });
  const busy = `const end = Date.now() + 60; while (Date.now() < end) { /* the generator's CPU, not the target's */ } await u.http.get('/');`;
  const file = scenario('busy', "{ find: { from: 30, to: 300, stepDuration: '1.5s' } }", "{ errors: ['rate < 0.05'] }", busy);
  const res = await run(file, server.url, 'busy', 1);
  const r = json(res.stdout);
  expect(r.limit!.status).toBe('generator-limited');
  expect(r.limit!.steps[r.limit!.steps.length - 1].health.saturated).toBe(true);
  expect(r.limit!.workersNeeded!).toBeGreaterThan(1);
  expect(r.limit!.reason).toMatch(/--workers \d+/);
  expect(res.code).toBe(2);
});

it('abortOnFail stops every worker of an ordinary run soon after the breach; the report names the threshold', async () => {
  const server = await startHttpServer((req, res) => {
    seen.push({ at: Date.now(), worker: String(req.headers['x-worker']) });
    res.statusCode = 503;
    res.end('down');
  });
  const file = scenario(
    'abort',
    "{ phases: [{ duration: '30s', arrivalRate: 20 }] }",
    "{ errors: [{ expr: 'rate < 0.1', abortOnFail: true, delayAbortEval: '1s' }] }",
  );
  const res = await run(file, server.url, 'abort');
  const r = json(res.stdout);
  expect(r.abortedBy).toMatchObject({ metric: 'errors', expression: 'rate < 0.1', actual: 1 });
  expect(r.abortedBy!.afterS).toBeGreaterThanOrEqual(1);
  expect(res.code).toBe(99);
  const again = await runCli(['report', r.runId, '--store', `file://${path.join(dir, 'abort')}`, '--json']);
  expect(again.code).toBe(99);
  expect(json(again.stdout).abortedBy).toEqual(r.abortedBy);
  // The server's own view: both workers sent, and both stopped within a few seconds of the first request (not 30 s).
  const first = Math.min(...seen.map((q) => q.at));
  for (const w of ['0', '1']) {
    const mine = seen.filter((q) => q.worker === w);
    expect(mine.length).toBeGreaterThan(0);
    expect(Math.max(...mine.map((q) => q.at)) - first).toBeLessThan(8000);
  }
  expect(r.requests).toBe(seen.length);
});
