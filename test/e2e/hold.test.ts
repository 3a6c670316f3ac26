import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, runsIn, tempDir } from '../helpers/cli';
import { startCountingTcpServer } from '../helpers/counting-servers';

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

/** The last figure `label N` (or `label N/M`) in the live hold lines on stderr. */
function lastFigure(stderr: string, label: string): number | undefined {
  const all = [...stderr.matchAll(new RegExp(`${label} (\\d+)`, 'g'))];
  return all.length > 0 ? Number(all[all.length - 1][1]) : undefined;
}

describe('loadfarm hold', () => {
  it('reaches N connections on 2 workers, holds them all at once, closes them and exits 0: the server saw each', async () => {
    const server = await startCountingTcpServer();
    try {
      const store = path.join(dir, 'store-all');
      // Each worker dials its 300 over 300 ms, then holds 2 s: all 600 are open together for 2 s, less
      // the gap between the two workers' starts.
      const res = await runCli(['hold', server.url, '-c', '600', '--delay', '1ms', '--hold', '2s', '--workers', '2', '--store', store, '--json']);
      await server.allClosed(600);
      expect(res.code).toBe(0);
      // The server's own count: every connection open at the same time, for most of the hold.
      expect(server.accepted).toBe(600);
      expect(server.peakOpen).toBe(600);
      expect(server.peakHeldMs).toBeGreaterThanOrEqual(500);
      expect(server.closedByServer).toBe(0);
      expect(server.closedByClient).toBe(600);
      expect(server.open).toBe(0);
      const report = JSON.parse(res.stdout) as Report;
      expect(report).toMatchObject({ status: 'passed', exitCode: 0, errors: {}, generatorErrors: {} });
      expect(report.counters['hold.established']).toBe(server.accepted);
      expect(report.counters['hold.dropped'] ?? 0).toBe(server.closedByServer);
      expect(report.metrics['tcp.connect'].count).toBe(server.accepted);
      expect(report.requests).toBe(server.accepted);
      expect(report.users.launched).toBe(server.accepted);
      expect(report.checks['held until the end']).toEqual({ pass: server.closedByClient, fail: 0 });
      expect(lastFigure(res.stderr, 'established')).toBe(server.accepted);
      expect(lastFigure(res.stderr, 'closed by peer')).toBe(0);
      expect(res.stderr).toMatch(/^preflight: ulimit -n \d+ × 2 worker\(s\)/m);
    } finally {
      await server.close();
    }
  });

  it('against a server that keeps 50 of 120 connections: incomplete, exit 2 live, in report.json and re-rendered, with the server\'s figures', async () => {
    const server = await startCountingTcpServer({ keep: 50 });
    try {
      const store = path.join(dir, 'store-keep50');
      const res = await runCli(['hold', server.url, '-c', '120', '--delay', '1ms', '--hold', '1s', '--store', store, '--json']);
      await server.allClosed(120);
      expect(server.accepted).toBe(120);
      expect(server.closedByServer).toBe(70);
      expect(server.peakOpen).toBe(50);
      expect(server.closedByClient).toBe(50);

      expect(res.code).toBe(2);
      const report = JSON.parse(res.stdout) as Report;
      expect(report).toMatchObject({ status: 'incomplete', exitCode: 2 });
      expect(report.counters['hold.established']).toBe(server.accepted);
      expect(report.counters['hold.dropped']).toBe(server.closedByServer);
      expect(report.checks['held until the end']).toEqual({ pass: server.closedByClient, fail: server.closedByServer });
      // The warning a person reads, in the server's numbers.
      expect(report.warnings).toContain(`${server.accepted} of 120 connections were established and ${server.accepted - server.closedByServer} held to the end`);
      expect(lastFigure(res.stderr, 'established')).toBe(server.accepted);
      expect(lastFigure(res.stderr, 'closed by peer')).toBe(server.closedByServer);

      const [runId] = runsIn(store);
      expect(runId).toBe(report.runId);
      const kept = JSON.parse(fs.readFileSync(path.join(store, 'runs', runId, 'report.json'), 'utf8')) as Report;
      expect(kept).toMatchObject({ status: 'incomplete', exitCode: 2 });

      const again = await runCli(['report', runId, '--store', store]);
      expect(again.code).toBe(2);
      expect(again.stdout).toMatch(/^status: INCOMPLETE \(exit 2\)/m);
      expect(again.stdout).not.toMatch(/THRESHOLDS-FAILED|exit 99/);
    } finally {
      await server.close();
    }
  });

  it('spreads connections over source addresses: the server sees each of them', async () => {
    const server = await startCountingTcpServer();
    try {
      const res = await runCli(['hold', server.url, '-c', '40', '--delay', '1ms', '--hold', '200ms', '--source-ips', '127.0.0.2-127.0.0.5', '--store', dir]);
      expect(res.code).toBe(0);
      expect(server.accepted).toBe(40);
      expect(server.peakOpen).toBe(40);
      expect([...server.remotes].sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
    } finally {
      await server.close();
    }
  });

  it('holds WebSocket connections too', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    let upgraded = 0;
    let peakOpen = 0;
    wss.on('connection', () => {
      upgraded++;
      peakOpen = Math.max(peakOpen, wss.clients.size);
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
      const res = await runCli(['hold', url, '-c', '100', '--delay', '1ms', '--hold', '300ms', '--store', dir, '--json']);
      expect(res.code).toBe(0);
      expect(upgraded).toBe(100);
      expect(peakOpen).toBe(100);
      expect((JSON.parse(res.stdout) as Report).metrics['ws.connect'].count).toBe(upgraded);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });

  it('bad input: one line each, nothing launched', async () => {
    const res = await runCli(['hold', 'http://127.0.0.1:1', '-c', 'lots', '--source-ips', '1.2.3', '--store', dir]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      'loadfarm: --connections: expected a whole number from 1 to 10000000, got "lots"',
      'loadfarm: target: expected tcp://host:port, ws://… or wss://… (hold opens raw connections), got "http://127.0.0.1:1"',
      'loadfarm: --source-ips: expected addresses like 127.0.0.2-127.0.0.20, a list or a CIDR block (1.2.3: expected an IPv4 address), got "1.2.3"',
    ]);
  });
});
