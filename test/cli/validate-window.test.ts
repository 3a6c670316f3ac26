import type * as net from 'node:net';
import { rmTemp, runCli, tempDir, writeScenario } from '../helpers/cli';
import { closeServers, startHttpServer, startTcpServer } from '../helpers/servers';

/**
 * `loadfarm validate` runs one user in a finite, stated window: `u.endsIn()` counts it down, a
 * journey still running a grace after it is cut. Judged by what loopback servers saw.
 */
let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));
afterEach(() => closeServers());

/** A TCP server that drains what it gets and records how long each connection stayed open, ms. */
async function holdingServer() {
  const heldMs: number[] = [];
  const server = await startTcpServer((socket: net.Socket) => {
    const opened = performance.now();
    socket.resume();
    socket.on('close', () => heldMs.push(performance.now() - opened));
  });
  return { server, heldMs };
}

describe('validate window', () => {
  it('a user holding until u.endsIn() holds for the window, then validate ends and says so', async () => {
    const { server, heldMs } = await holdingServer();
    const file = writeScenario(dir, 'hold-until-end.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'hold-until-end',
        load: { users: 1, duration: '1m' },
        async user(u) {
          const conn = await u.tcp.connect(u.target);
          await u.think(u.endsIn() / 1000);
          await conn.close();
        },
      });
    `);
    const started = performance.now();
    const res = await runCli(['validate', file, '--target', server.address, '--window', '1s'], { timeoutMs: 20_000 });
    const tookMs = performance.now() - started;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('u.endsIn() counts down a 1s window (--window)');
    expect(res.stdout).toContain('one user: ok');
    await server.closedAtLeast(1, 5000);
    expect(server.accepted).toBe(1);
    // Held for the window (timers may fire a couple of ms early), not cut short, not forever.
    expect(heldMs[0]).toBeGreaterThanOrEqual(990);
    expect(heldMs[0]).toBeLessThan(5000);
    expect(tookMs).toBeLessThan(15_000);
  });

  it('a user looping while u.endsIn() > 0 stops at the window: the server counts a few requests, not a minute of them', async () => {
    let ticks = 0;
    const server = await startHttpServer((req, res) => {
      ticks++;
      res.end('ok');
    });
    const file = writeScenario(dir, 'loop-until-end.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'loop-until-end',
        load: { users: 1, duration: '1m' },
        async user(u) {
          while (u.endsIn() > 0) {
            await u.http.get('/tick');
            await u.think(0.25);
          }
        },
      });
    `);
    const res = await runCli(['validate', file, '--target', server.url, '--window', '1s'], { timeoutMs: 20_000 });
    expect(res.code).toBe(0);
    // One request every ~250 ms for 1 s.
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(ticks).toBeLessThanOrEqual(6);
  });

  it('a journey that never ends is cut (after --timeout, but not before the window plus the grace), fails, and its connection is closed', async () => {
    const { server } = await holdingServer();
    const file = writeScenario(dir, 'never-ends.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'never-ends',
        load: { users: 1, duration: '1m' },
        grace: '1s',
        async user(u) {
          await u.tcp.connect(u.target);
          await new Promise(() => {});
        },
      });
    `);
    const started = performance.now();
    const res = await runCli(['validate', file, '--target', server.address, '--window', '500ms', '--timeout', '1s'], { timeoutMs: 20_000 });
    expect(res.code).toBe(1);
    // The cut: --timeout 1s, raised to the window (500ms) plus the scenario's grace (1s).
    expect(res.stdout).toContain('a journey still running 1.5s after its start is cut (--timeout)');
    expect(res.stdout).toContain('user: FAILED: still running 1.5s after it started: cut');
    expect(res.stdout).toContain('one user: FAILED');
    expect(performance.now() - started).toBeLessThan(15_000);
    await server.closedAtLeast(1, 5000);
    expect(server.accepted).toBe(1);
  });
});

describe('u.rng.weighted in a journey', () => {
  it('the pairs form works inside a user and picks by weight (seeded): the server counts each path', async () => {
    const hits: Record<string, number> = {};
    const server = await startHttpServer((req, res) => {
      hits[req.url!] = (hits[req.url!] ?? 0) + 1;
      res.end('ok');
    });
    const file = writeScenario(dir, 'weighted.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'weighted',
        load: { users: 1, duration: '1m' },
        async user(u) {
          for (let i = 0; i < 40; i++) await u.http.get(u.rng.weighted([['/a', 1], ['/b', 3]]));
        },
      });
    `);
    const res = await runCli(['validate', file, '--target', server.url], { timeoutMs: 20_000 });
    expect(res.stdout).toContain('one user: ok');
    expect(res.code).toBe(0);
    expect(Object.keys(hits).sort()).toEqual(['/a', '/b']);
    expect(hits['/a'] + hits['/b']).toBe(40);
    expect(hits['/b']).toBeGreaterThan(hits['/a']);
  });
});
