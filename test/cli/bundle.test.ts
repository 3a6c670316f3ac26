import * as fs from 'node:fs';
import { bundleScenario } from '../../cli/bundle';
import { UsageError } from '../../cli/errors';
import { rmTemp, tempDir, writeScenario } from '../helpers/cli';

/**
 * Bundling a scenario leaves no esbuild service process behind: one kept alive for the rest of
 * a run uses CPU all along (issue 16). Judged from /proc: this process's esbuild children that
 * a bundle started (jest's own transform has one of its own, running before and after).
 */
let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

/** Pids of this process's children running esbuild and not yet ended (a zombie counts as ended). */
function esbuildChildren(): number[] {
  const pids = fs
    .readdirSync('/proc/self/task')
    .flatMap((t) => fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
  return pids.filter((pid) => {
    try {
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return state !== 'Z' && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('esbuild');
    } catch {
      return false; // Gone between the listing and the read.
    }
  });
}

/** Calls `fn`; resolves with the esbuild children it started that are still running 5 s after it settled. */
async function leftRunning<T>(fn: () => Promise<T>): Promise<{ value: T; left: number[] }> {
  const before = new Set(esbuildChildren());
  const value = await fn();
  const started = () => esbuildChildren().filter((pid) => !before.has(pid));
  // A stopped service gets SIGTERM: its exit lands a little later.
  for (let waited = 0; started().length > 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return { value, left: started() };
}

const SCENARIO = `
  import { defineScenario } from 'loadfarm';
  import { path } from './helper';
  export default defineScenario({ name: 'b', target: 'http://127.0.0.1:1', load: { users: 1, duration: '1s' }, async user(u) { await u.http.get(path); } });
`;

describe('bundleScenario', () => {
  const itOnLinux = process.platform === 'linux' ? it : it.skip;

  itOnLinux('bundles, and leaves no esbuild service running', async () => {
    writeScenario(dir, 'helper.ts', `export const path = '/from-helper';`);
    const file = writeScenario(dir, 'one.ts', SCENARIO);
    const { value, left } = await leftRunning(() => bundleScenario(file));
    expect(value.code).toContain('/from-helper');
    expect(left).toEqual([]);
  });

  itOnLinux('builds at the same time share the service, which stops after the last; a later build starts it again', async () => {
    writeScenario(dir, 'helper.ts', `export const path = '/from-helper';`);
    const files = ['a.ts', 'b.ts', 'c.ts'].map((n) => writeScenario(dir, n, SCENARIO));
    const all = await leftRunning(() => Promise.all(files.map((f) => bundleScenario(f))));
    expect(all.value.every((d) => d.code.includes('/from-helper'))).toBe(true);
    expect(all.left).toEqual([]);
    const again = await leftRunning(() => bundleScenario(files[0]));
    expect(again.value.code).toContain('/from-helper');
    expect(again.left).toEqual([]);
  });

  itOnLinux('a scenario that does not build is one UsageError, and leaves no service running', async () => {
    const file = writeScenario(dir, 'broken.ts', 'export default {');
    const { value, left } = await leftRunning(() => bundleScenario(file).catch((err: unknown) => err));
    expect(value).toBeInstanceOf(UsageError);
    expect(left).toEqual([]);
  });
});
