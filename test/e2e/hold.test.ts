import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, tempDir } from '../helpers/cli';

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

/** A TCP server that counts connections and the remote addresses they came from. */
async function tcpServer(o: { maxConnections?: number } = {}) {
  const sockets = new Set<net.Socket>();
  const remotes = new Set<string>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    remotes.add(s.remoteAddress!);
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  if (o.maxConnections) server.maxConnections = o.maxConnections;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    remotes,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('loadfarm hold', () => {
  it('reaches N connections on 2 workers, holds them and exits 0', async () => {
    const server = await tcpServer();
    try {
      const res = await runCli(['hold', server.url, '-c', '600', '--delay', '1ms', '--hold', '1s', '--workers', '2', '--store', dir, '--json']);
      expect(res.code).toBe(0);
      const report = JSON.parse(res.stdout) as Report;
      expect(report.counters['hold.established']).toBe(600);
      expect(report.metrics['tcp.connect'].count).toBe(600);
      expect(server.accepted()).toBe(600);
      expect(res.stderr).toMatch(/established 600\/600/);
      expect(res.stderr).toMatch(/^preflight: ulimit -n \d+ × 2 worker\(s\)/m);
    } finally {
      await server.close();
    }
  });

  it('against a server that takes only 50 connections: exit 2, with the counts', async () => {
    const server = await tcpServer({ maxConnections: 50 });
    try {
      const res = await runCli(['hold', server.url, '-c', '120', '--delay', '1ms', '--hold', '1s', '--store', dir, '--json']);
      expect(res.code).toBe(2);
      const report = JSON.parse(res.stdout) as Report;
      expect(report.status).toBe('thresholds-failed');
      // The kernel completes every handshake; the server then closes what it will not keep.
      expect(report.counters['hold.established']).toBe(120);
      expect(report.counters['hold.dropped']).toBe(70);
      expect(report.errors['check held until the end']).toBe(70);
      expect(res.stderr).toMatch(/closed by peer 70/);
    } finally {
      await server.close();
    }
  });

  it('spreads connections over source addresses: the server sees each of them', async () => {
    const server = await tcpServer();
    try {
      const res = await runCli(['hold', server.url, '-c', '40', '--delay', '1ms', '--hold', '200ms', '--source-ips', '127.0.0.2-127.0.0.5', '--store', dir]);
      expect(res.code).toBe(0);
      expect([...server.remotes].sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
    } finally {
      await server.close();
    }
  });

  it('holds WebSocket connections too', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
      const res = await runCli(['hold', url, '-c', '100', '--delay', '1ms', '--hold', '300ms', '--store', dir, '--json']);
      expect(res.code).toBe(0);
      expect((JSON.parse(res.stdout) as Report).metrics['ws.connect'].count).toBe(100);
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
