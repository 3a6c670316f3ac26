import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, tempDir, writeScenario } from '../helpers/cli';
import { startCountingHttpServer, type CountingHttpServer } from '../helpers/counting-servers';

/**
 * What the CLI process itself loads for `loadfarm run` on the local farm (issue 16: its CPU is
 * part of the farm's cost): the protocol clients are the worker's, the AWS SDK the cloud's.
 * Judged by the CLI process's own module cache at exit (a --require probe), the run by the
 * target's count.
 */
let dir: string;
let server: CountingHttpServer;
beforeAll(() => (dir = tempDir()));
afterAll(async () => {
  await server?.close();
  rmTemp(dir);
});

/** Writes, at exit of the process whose script is bin/loadfarm.js, the packages it loaded. */
const PROBE = `
const fs = require('node:fs');
if ((process.argv[1] ?? '').endsWith('loadfarm.js')) {
  process.on('exit', () => {
    const packages = new Set();
    for (const file of Object.keys(require.cache)) {
      const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file);
      if (m) packages.add(m[1].replace(/\\\\/g, '/'));
    }
    fs.writeFileSync(process.env.LOADED_OUT, JSON.stringify([...packages].sort()));
  });
}
`;

const SCENARIO = `
import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'e2e-startup',
  load: { users: 2, duration: '1s' },
  async user(u) { await u.http.get('/items/1'); },
});
`;

describe('what `loadfarm run` loads in the CLI process', () => {
  it('neither protocol clients nor the AWS SDK; the run itself is whole', async () => {
    server = await startCountingHttpServer();
    const probe = path.join(dir, 'probe.cjs');
    fs.writeFileSync(probe, PROBE);
    const loadedOut = path.join(dir, 'loaded.json');
    const file = writeScenario(dir, 'startup.ts', SCENARIO);
    const res = await runCli(['run', file, '--workers', '1', '--target', server.url, '--store', `file://${path.join(dir, 'store')}`, '--interval', '500ms', '--json', '-q'], {
      env: { NODE_OPTIONS: `--require ${probe}`, LOADED_OUT: loadedOut },
    });
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.requests).toBe(server.requests);
    expect(server.requests).toBeGreaterThan(0);
    const loaded = JSON.parse(fs.readFileSync(loadedOut, 'utf8')) as string[];
    expect(loaded).toContain('commander');
    for (const unwanted of ['undici', 'ws', 'socket.io-client', 'socket.io', 'engine.io-client', 'hdr-histogram-js', 'pako', '@assemblyscript/loader']) {
      expect(loaded).not.toContain(unwanted);
    }
    expect(loaded.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@smithy/'))).toEqual([]);
  });
});
