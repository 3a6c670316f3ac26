import * as path from 'node:path';
import { rmTemp, runCli, runsIn, tempDir, writeScenario } from '../helpers/cli';

/**
 * Bad scenarios and out-of-bounds flags are refused by the built CLI before anything is launched:
 * every problem on its own line, exit 1, nothing in the store.
 */
let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

const lines = (stderr: string) => stderr.trim().split('\n');

describe('refused before launch', () => {
  it('validate and run name a misspelt load key, suggest the right one, and say where grace goes', async () => {
    const file = writeScenario(dir, 'rampup.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({
        name: 'rampup',
        target: 'http://127.0.0.1:9',
        load: { users: 1, duration: '2s', rampup: '1s', gracePeriod: '1s' } as any,
        user: async () => {},
      });
    `);
    const validate = await runCli(['validate', file]);
    expect(validate.code).toBe(1);
    expect(lines(validate.stderr)).toEqual([
      `loadfarm: scenario ${file} is not valid: load.rampup: unknown key — did you mean rampUp?`,
      'loadfarm: load.gracePeriod: unknown key — did you mean grace? (grace goes at the top level of the scenario, next to load)',
    ]);
    expect(validate.stdout).not.toMatch(/valid/);

    const store = path.join(dir, 'store-keys');
    const run = await runCli(['run', file, '--store', store, '--workers', '1']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(lines(validate.stderr));
    expect(runsIn(store)).toEqual([]);
  });

  it('run refuses --interval 25d (past Node\'s 32-bit timers) and a 25-day load, naming each limit', async () => {
    const file = writeScenario(dir, 'long.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({ name: 'long', target: 'http://127.0.0.1:9', load: { users: 1, duration: '25d' }, user: async () => {} });
    `);
    const store = path.join(dir, 'store-long');
    const flags = await runCli(['run', file, '--store', store, '--interval', '25d', '--stagger', '11m']);
    expect(flags.code).toBe(1);
    expect(lines(flags.stderr)).toEqual([
      "loadfarm: --stagger: expected at most 10m (the longest delay between two workers' starts), got \"11m\"",
      'loadfarm: --interval: expected at most 10m (the longest snapshot interval), got "25d"',
    ]);
    const load = await runCli(['run', file, '--store', store]);
    expect(load.code).toBe(1);
    expect(lines(load.stderr)).toEqual([`loadfarm: scenario ${file} is not valid: load.duration: expected a duration at most 168h (the longest load), got "25d"`]);
    const span = await runCli(['run', file, '--store', store, '--workers', '8', '--stagger', '10m']);
    expect(lines(span.stderr)).toEqual([
      "loadfarm: --stagger: expected (workers − 1) × stagger at most 1h (the last worker's start after the first's), got \"10m × 7\"",
    ]);
    expect(runsIn(store)).toEqual([]);
  });

  it('hold bounds --delay, --timeout, --hold and the dials plus the hold', async () => {
    const store = path.join(dir, 'store-hold');
    const each = await runCli(['hold', 'tcp://127.0.0.1:9', '--store', store, '--delay', '2m', '--timeout', '2h', '--hold', '25d']);
    expect(each.code).toBe(1);
    expect(lines(each.stderr)).toEqual([
      "loadfarm: --delay: expected at most 1m (the longest pause between one worker's dials), got \"2m\"",
      'loadfarm: --timeout: expected at most 1h (the longest timeout), got "2h"',
      'loadfarm: --hold: expected at most 168h (the longest load), got "25d"',
    ]);
    // 100,000 dials one every 10 s on one worker: 277h46m before the hold even starts.
    const sum = await runCli(['hold', 'tcp://127.0.0.1:9', '--store', store, '--connections', '100000', '--delay', '10s', '--hold', '1s']);
    expect(sum.code).toBe(1);
    expect(lines(sum.stderr)).toEqual([
      'loadfarm: --hold: expected dials (100000 per worker × --delay) plus --hold at most 168h (the longest load), got "277h46m in all"',
    ]);
    expect(runsIn(store)).toEqual([]);
  });

  it('validate refuses a --window and a --timeout past their limits', async () => {
    const file = writeScenario(dir, 'ok.ts', `
      import { defineScenario } from 'loadfarm';
      export default defineScenario({ name: 'ok', target: 'http://127.0.0.1:9', load: { users: 1, duration: '1s' }, user: async () => {} });
    `);
    const res = await runCli(['validate', file, '--window', '2h', '--timeout', '25d']);
    expect(res.code).toBe(1);
    expect(lines(res.stderr)).toEqual([
      'loadfarm: --window: expected at most 10m (the longest dry-run window), got "2h"',
      'loadfarm: --timeout: expected at most 1h (the longest timeout), got "25d"',
    ]);
  });
});
