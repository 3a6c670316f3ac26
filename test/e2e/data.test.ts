import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';

/**
 * Data files across the local farm, judged by a loopback server that records every row id it
 * is sent (GET /row/:id) and the peak memory the sending worker reports (x-max-rss, bytes).
 */
interface RowServer {
  url: string;
  ids: number[];
  maxRss: number;
  close(): Promise<void>;
}

async function startRowServer(): Promise<RowServer> {
  const s = {
    ids: [] as number[],
    maxRss: 0,
  };
  const server = http.createServer((req, res) => {
    const m = /^\/row\/(\d+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (m) s.ids.push(Number(m[1]));
    const rss = Number(req.headers['x-max-rss'] ?? 0);
    if (rss > s.maxRss) s.maxRss = rss;
    res.end(m ? 'ok' : 'no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(s, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

let dir: string;
let server: RowServer;
beforeAll(() => {
  dir = tempDir('loadfarm-data-');
});
beforeEach(async () => {
  server = await startRowServer();
});
afterEach(() => server.close());
afterAll(() => rmTemp(dir));

/** `n` accounts with ids from 1000; every third email is quoted and holds a comma. */
function accountsCsv(n: number): string {
  const lines = ['id,email'];
  for (let i = 0; i < n; i++) lines.push(i % 3 === 0 ? `${1000 + i},"user ${i}, the ""third""@example.com"` : `${1000 + i},u${i}@example.com`);
  return `${lines.join('\r\n')}\r\n`;
}

const UNIQUE = (rows: string) => `
import { defineScenario, csv } from 'loadfarm';
interface Account { id: number; email: string }
export default defineScenario({
  name: 'data-unique',
  data: { accounts: csv('./${rows}', { mode: 'unique', types: { id: 'number' } }) },
  load: { phases: [{ duration: '2s', arrivalRate: 30 }] },
  async user(u) {
    const a = u.data.accounts.next<Account>();
    if (typeof a.id !== 'number' || !a.email.includes('@')) throw new Error('bad row ' + JSON.stringify(a));
    await u.http.get('/row/' + a.id, { name: '/row/:id' });
  },
});
`;

const run = (file: string, store: string, workers = 3) =>
  runCli(['run', file, '--workers', String(workers), '--target', server.url, '--store', `file://${store}`, '--interval', '500ms', '--json', '--seed', '5']);

describe('data files on the local farm', () => {
  it('validate checks the files as run does and its dry run draws the first row', async () => {
    fs.writeFileSync(path.join(dir, 'accounts3.csv'), accountsCsv(3));
    const file = writeScenario(dir, 'unique3.ts', UNIQUE('accounts3.csv'));
    const res = await runCli(['validate', file, '--target', server.url]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^warning: data accounts: 3 rows for 60 users in unique mode/m);
    expect(res.stdout).toMatch(/one user: ok/);
    expect(server.ids).toEqual([1000]);
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'id,email\n1,a@x\n2,b@x,extra\n');
    const bad = await runCli(['validate', writeScenario(dir, 'bad.ts', UNIQUE('bad.csv')), '--target', server.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^loadfarm: data accounts: \.\/bad\.csv:3:/);
    expect(server.ids).toEqual([1000]);
  });

  it('unique across 3 workers: an open model of 60 users and 60 rows: the target sees every row exactly once', async () => {
    fs.writeFileSync(path.join(dir, 'accounts60.csv'), accountsCsv(60));
    const file = writeScenario(dir, 'unique60.ts', UNIQUE('accounts60.csv'));
    const res = await run(file, path.join(dir, 'store-60'));
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect([...server.ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => 1000 + i));
    expect(report.errors).toEqual({});
    expect(report.requests).toBe(60);
  });

  it('unique with 50 rows for 60 users: a warning with the numbers, each row once, 10 users end with DATA_EXHAUSTED', async () => {
    fs.writeFileSync(path.join(dir, 'accounts50.csv'), accountsCsv(50));
    const file = writeScenario(dir, 'unique50.ts', UNIQUE('accounts50.csv'));
    const res = await run(file, path.join(dir, 'store-50'));
    expect(res.stderr).toMatch(/warning: data accounts: 50 rows for 60 users in unique mode: 10 users will end with DATA_EXHAUSTED \(per worker, rows\/users: 17\/20, 17\/20, 16\/20\)/);
    const report = JSON.parse(res.stdout) as Report;
    expect(new Set(server.ids).size).toBe(50);
    expect(server.ids).toHaveLength(50);
    // One failed operation per user that found its worker's share used up.
    expect(report.errors).toEqual({ DATA_EXHAUSTED: 10 });
    expect(report.requests).toBe(server.ids.length + 10);
  });

  it.each([
    ['a CSV row with an extra field', 'id,email\n1,a@x\n2,b@x,extra\n', /data accounts: \.\/bad\.csv:3:7: expected 2 fields like the header, got 3/],
    ['an unclosed quote', 'id,email\n1,"a@x\n2,b@x\n', /data accounts: \.\/bad\.csv:2:3: a quoted field opened here is never closed/],
    ['a value that is not the declared type', 'id,email\nx7,a@x\n', /data accounts: \.\/bad\.csv:2:1: column id: expected a number, got "x7"/],
    ['an empty file', '', /data accounts: \.\/bad\.csv: the file is empty \(no rows\)/],
    ['a header alone', 'id,email\n', /data accounts: \.\/bad\.csv: no rows below the header/],
  ])('%s: one line naming file, line and column; exit 1; nothing launched', async (_what, content, message) => {
    const sub = fs.mkdtempSync(path.join(dir, 'bad-'));
    fs.writeFileSync(path.join(sub, 'bad.csv'), content);
    const file = writeScenario(sub, 'bad.ts', UNIQUE('bad.csv'));
    const store = path.join(sub, 'store');
    const res = await run(file, store);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(runsIn(store)).toEqual([]);
    expect(server.ids).toEqual([]);
  });

  it('a missing file is named with where it was looked for; exit 1', async () => {
    const file = writeScenario(dir, 'missing.ts', UNIQUE('nowhere.csv'));
    const res = await run(file, path.join(dir, 'store-missing'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/data accounts: \.\/nowhere\.csv: no such file \(looked for .*nowhere\.csv; paths are relative to the scenario file\)/);
  });

  it('a large NDJSON file is streamed: the worker fetches it part by part and its peak memory stays below the file size', async () => {
    const rows = 200_000;
    const pad = 'x'.repeat(1000);
    const big = path.join(dir, 'big.ndjson');
    const fd = fs.openSync(big, 'w');
    for (let i = 0; i < rows; i += 1000) {
      let block = '';
      for (let j = i; j < i + 1000; j++) block += `${JSON.stringify({ id: j, pad })}\n`;
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
    const size = fs.statSync(big).size;
    expect(size).toBeGreaterThan(190 * 1024 * 1024);
    const file = writeScenario(
      dir,
      'big.ts',
      `
import { defineScenario, ndjson } from 'loadfarm';
export default defineScenario({
  name: 'data-big',
  data: { big: ndjson<{ id: number; pad: string }>('./big.ndjson', { mode: 'random' }) },
  load: { phases: [{ duration: '1s', arrivalRate: 20 }] },
  async user(u) {
    const row = u.data.big.next<{ id: number; pad: string }>();
    if (row.pad.length !== 1000) throw new Error('short row');
    await u.http.get('/row/' + row.id, { headers: { 'x-max-rss': String(process.resourceUsage().maxRSS * 1024) } });
  },
});
`,
    );
    const store = path.join(dir, 'store-big');
    const res = await runCli(['run', file, '--workers', '1', '--target', server.url, '--store', `file://${store}`, '--interval', '500ms', '--json', '--seed', '9'], { timeoutMs: 120_000 });
    expect(res.code).toBe(0);
    expect(server.ids).toHaveLength(20);
    for (const id of server.ids) expect(id).toBeLessThan(rows);
    // Random draws reach past the first part: rows come from the whole file.
    expect(Math.max(...server.ids)).toBeGreaterThan(2000);
    // The file went to the store once, in parts of about 1 MiB.
    const [runId] = runsIn(store);
    const parts = fs.readdirSync(path.join(store, 'runs', runId, 'data', 'big'));
    expect(parts.length).toBeGreaterThanOrEqual(100);
    expect(server.maxRss).toBeGreaterThan(0);
    expect(server.maxRss).toBeLessThan(size);
  }, 150_000);
});
