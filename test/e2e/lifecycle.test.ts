import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';
import { startCountingHttpServer, type CountingHttpServer } from '../helpers/counting-servers';

/** `runs`, `stop` and `attach` on a run of the local farm, each against the target's own count. */

let dir: string;
let server: CountingHttpServer | undefined;
beforeAll(() => (dir = tempDir()));
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => rmTemp(dir));

/** Two users, each a GET then 100 ms of thought, for `duration`. */
const steady = (duration: string) => `
import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'e2e-steady',
  load: { users: 2, duration: '${duration}' },
  async user(u) {
    await u.http.get('/items/' + u.id, { name: '/items/:id' });
    await u.think(0.1);
  },
});
`;

/** Polls `check` every 100 ms until it returns a value; throws after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The status `loadfarm runs` lists for `runId` in `store`, or undefined when it is not listed. */
async function listed(store: string, runId: string): Promise<string | undefined> {
  const res = await runCli(['runs', '--store', store]);
  expect(res.code).toBe(0);
  const row = res.stdout.split('\n').find((l) => l.startsWith(`${runId} `));
  return row?.split(/\s{2,}/)[2];
}

describe('a local run in the background', () => {
  it('`runs` lists it running; `stop` ends it: INCOMPLETE, exit 2, the stop named, and every request the target got is counted', async () => {
    const target = (server = await startCountingHttpServer());
    const file = writeScenario(dir, 'steady-stop.ts', steady('60s'));
    const store = path.join(dir, 'store-stop');
    const running = runCli(['run', file, '--workers', '2', '--target', target.url, '--store', store, '--interval', '500ms'], { timeoutMs: 45_000 });
    const runId = await until(() => runsIn(store)[0], 'the run is planned');
    await until(() => (target.requests >= 10 ? true : undefined), 'load reaches the target');
    expect(await until(() => listed(store, runId), '`loadfarm runs` lists the run')).toMatch(/^running for [0-9hms.]+$/);

    const stop = await runCli(['stop', runId, '--store', store]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`^stop marker written for ${runId}`));
    const stoppedAt = Date.now();
    const res = await running;
    // Workers notice the marker within a few seconds (far before the 60 s of load).
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/^status: INCOMPLETE \(exit 2\) · .*stopped early/m);
    expect(res.stdout).toMatch(/^ {2}! the run was stopped before the end of its load$/m);

    const report = JSON.parse(fs.readFileSync(path.join(store, 'runs', runId, 'report.json'), 'utf8')) as Report;
    expect(report).toMatchObject({ status: 'incomplete', exitCode: 2, errors: {} });
    expect(report.requests).toBe(target.requests);
    expect(report.metrics['http.GET /items/:id'].count).toBe(target.byRoute['GET /items/:id']);
    expect(await listed(store, runId)).toBe('incomplete');

    const again = await runCli(['report', runId, '--store', store]);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/^status: INCOMPLETE \(exit 2\) · .*stopped early/m);
  }, 60_000);

  it('`attach` follows a run whose CLI was killed to its end, with the numbers the target counted', async () => {
    const target = (server = await startCountingHttpServer());
    const file = writeScenario(dir, 'steady-attach.ts', steady('4s'));
    const store = path.join(dir, 'store-attach');
    let cli: ChildProcess | undefined;
    const first = runCli(['run', file, '--workers', '2', '--target', target.url, '--store', store, '--interval', '500ms'], { onSpawn: (c) => (cli = c) });
    const runId = await until(() => runsIn(store)[0], 'the run is planned');
    await until(() => (target.requests >= 4 ? true : undefined), 'load reaches the target');
    // The CLI that started the run goes away; its workers go on.
    process.kill(cli!.pid!, 'SIGKILL');
    expect((await first).code).toBeNull();
    expect(await listed(store, runId)).toMatch(/^running for [0-9hms.]+$/);

    const res = await runCli(['attach', runId, '--store', store, '--json'], { timeoutMs: 30_000 });
    expect(res.stderr).toMatch(new RegExp(`^attached to ${runId}`, 'm'));
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('passed');
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done']);
    expect(report.requests).toBe(target.requests);
    expect(report.metrics['http.GET /items/:id'].count).toBe(target.byRoute['GET /items/:id']);
    expect(report.users.launched).toBe(target.byUser.size);
    expect(await listed(store, runId)).toBe('passed');
  }, 60_000);
});
