import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileStore } from '../../worker/store/file';
import { layout } from '../../worker/store/layout';
import { putJson, putNewJson } from '../../worker/store/store';
import { Recorder } from '../../worker/metrics/recorder';
import { RollupBuilder } from '../../worker/metrics/rollup';
import { RunReader } from '../../cli/merge/reader';
import { RollingReports } from '../../cli/run/rolling';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import type { Report } from '../../cli/report/types';
import { rmTemp, tempDir } from '../helpers/cli';

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

it('one report per period with that period’s own numbers: every interval in exactly one, written once', async () => {
  const store = new FileStore(dir);
  const scenario = defineScenario({ name: 'soak', load: { users: 1, duration: '3h' }, user: async () => {}, reportEvery: '1h' });
  const t0 = Date.now() - 4 * 3600_000;
  const plan = { ...makePlan({ runId: 'soak-1', scenario, scenarioFile: 's.ts', target: 'http://127.0.0.1:1', workers: 2, staggerMs: 0, seed: 1, intervalMs: 60_000 }), createdAt: t0 - 1000 };
  expect(plan.reportEveryMs).toBe(3600_000);
  await putJson(store, layout.plan('soak-1'), plan);
  let ops = 0;
  for (let w = 0; w < 2; w++) {
    const builder = new RollupBuilder(60_000);
    const r = new Recorder(w, t0, builder);
    // 150 one-minute intervals: 2 h 30 min; interval k holds k+1 operations.
    for (let k = 0; k < 150; k++) {
      for (let n = 0; n <= k; n++) r.op();
      ops += k + 1;
      r.latency('http.GET /', 5);
      const s = { ...r.cut({ cpuPct: 1, loopLagP99Ms: 0, loopLagMaxMs: 0, rssMb: 1, saturated: false }, k === 149, t0 + (k + 1) * 60_000), run: 'soak-1' };
      await putNewJson(store, layout.snapshot('soak-1', w, s.seq), s);
      for (const ru of builder.take()) await putNewJson(store, layout.rollup('soak-1', w, ru.rollup.level, ru.rollup.seqFrom, ru.rollup.seqTo), { ...ru, run: 'soak-1' });
    }
  }
  const reader = new RunReader(store, 'soak-1');
  await reader.plan();
  await reader.complete();
  const rolling = new RollingReports(store, plan, t0);
  // 2 h 30 min in: periods 1 and 2 are over; 3 is not.
  const keys = await rolling.write(reader, t0 + 150 * 60_000 + 5 * 60_000);
  expect(keys.map((k) => path.basename(k))).toEqual([
    `0001-${new Date(t0 + 3600_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`,
    `0002-${new Date(t0 + 7200_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`,
  ]);
  expect(await rolling.write(reader, t0 + 150 * 60_000 + 6 * 60_000)).toEqual([]);
  const reports = keys.map((k) => JSON.parse(fs.readFileSync(path.join(dir, k), 'utf8')) as Report);
  // Period 1: intervals 0..59 of both workers: 2 × (1 + … + 60); period 2: intervals 60..119.
  const sum = (a: number, b: number) => ((b - a + 1) * (a + b)) / 2;
  expect(reports.map((r) => r.requests)).toEqual([2 * sum(1, 60), 2 * sum(61, 120)]);
  expect(reports.map((r) => r.period?.index)).toEqual([1, 2]);
  expect(reports.every((r) => r.status === 'running' || r.status === 'incomplete')).toBe(true);
  expect(fs.existsSync(path.join(dir, keys[0].replace(/\.json$/, '.html')))).toBe(true);
  expect(ops).toBe(2 * sum(1, 150));
});
