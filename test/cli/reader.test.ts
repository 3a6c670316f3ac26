import { FileStore } from '../../worker/store/file';
import { layout } from '../../worker/store/layout';
import { putJson, putNewJson, type Store } from '../../worker/store/store';
import { Recorder } from '../../worker/metrics/recorder';
import { RollupBuilder } from '../../worker/metrics/rollup';
import { RunReader } from '../../cli/merge/reader';
import { mergeSnapshots } from '../../cli/merge/merge';
import { reportFromStore } from '../../cli/report/from-store';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';
import type { Health, Snapshot } from '../../worker/metrics/snapshot';
import { rmTemp, tempDir } from '../helpers/cli';

/**
 * The reader against a file store laid out as workers write it (snapshots, then the roll-ups they
 * complete, write-once): what it reads, how many store requests it makes, and that the report of
 * the roll-ups is the report of the raw snapshots.
 */
const calm: Health = { cpuPct: 3, loopLagP99Ms: 0, loopLagMaxMs: 1, rssMb: 40, saturated: false };
const INTERVAL = 30_000;
let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => rmTemp(dir));

/** Writes `workers` workers × `intervals` snapshots (and their roll-ups unless `noRollups`); returns the raw snapshots. */
async function writeRun(store: Store, runId: string, workers: number, intervals: number, o: { noRollups?: boolean } = {}) {
  const scenario = defineScenario({ name: 'soak', load: { users: 1, duration: '2h' }, user: async () => {} });
  const t0 = Date.now() - 3 * 3600_000;
  const plan = { ...makePlan({ runId, scenario, scenarioFile: 's.ts', target: 'http://127.0.0.1:1', workers, staggerMs: 0, seed: 1, intervalMs: INTERVAL }), createdAt: t0 - 1000 };
  await putJson(store, layout.plan(runId), plan);
  const raw: Snapshot[] = [];
  for (let w = 0; w < workers; w++) {
    const builder = new RollupBuilder(INTERVAL);
    const r = new Recorder(w, t0, builder);
    for (let k = 0; k < intervals; k++) {
      for (let n = 0; n < 3; n++) {
        r.latency('http.GET /', 1 + ((k * 7 + n * 13 + w) % 400));
        r.op();
      }
      if (k % 5 === 0) {
        r.op();
        r.error('HTTP 503');
      }
      r.check('ok', k % 3 !== 0);
      const s = { ...r.cut(calm, k === intervals - 1, t0 + (k + 1) * INTERVAL), run: runId };
      raw.push(s);
      await putNewJson(store, layout.snapshot(runId, w, s.seq), s);
      for (const ru of builder.take()) if (!o.noRollups) await putNewJson(store, layout.rollup(runId, w, ru.rollup.level, ru.rollup.seqFrom, ru.rollup.seqTo), { ...ru, run: runId });
    }
    await putJson(store, layout.status(runId, w), { index: w, state: 'done', host: 'h', pid: 1, startedAt: t0, completed: true });
  }
  return { plan, raw };
}

function counted(store: Store) {
  const calls = { list: 0, get: 0 };
  const wrapped: Store = Object.create(store);
  wrapped.list = (p, o) => (calls.list++, store.list(p, o));
  wrapped.get = (k) => (calls.get++, store.get(k));
  return { store: wrapped, calls };
}

it('a report of 2 workers × 130 intervals reads 2 hours, a few minutes and the snapshots no roll-up covers, and equals the raw merge', async () => {
  const base = new FileStore(`${dir}/a`);
  const { plan, raw } = await writeRun(base, 'run-a', 2, 130);
  const { store, calls } = counted(base);
  const reader = new RunReader(store, 'run-a');
  await reader.plan();
  await reader.complete();
  const report = await reportFromStore(reader, plan);
  // Per worker: the 1h roll-up (snapshots 0-119), 5 1m roll-ups (120-129); nothing else.
  expect(reader.snapshots).toHaveLength(2 * (1 + 5));
  // Per worker: 3 lists (1h, 1m after the hour, snapshots after the minutes) and 7 gets (the
  // hour, 5 minutes, the status), plus the plan, the fleet record and the stop marker: no
  // snapshot a roll-up covers is listed or read.
  expect(calls).toEqual({ list: 2 * 3, get: 3 + 2 * 7 });
  const rawReport = mergeSnapshots(raw, INTERVAL);
  expect(report.requests).toBe(rawReport.ops);
  expect(report.requests).toBe(2 * 130 * 3 + 2 * 26);
  expect(report.errors).toEqual({ 'HTTP 503': 2 * 26 });
  expect(report.checks).toEqual(rawReport.checks);
  const h = rawReport.metrics.get('http.GET /')!;
  expect(report.metrics['http.GET /'].count).toBe(h.totalCount);
  expect(report.metrics['http.GET /'].p99).toBe(Math.round(h.getValueAtPercentile(99)) / 1000);
  expect(report.workers.map((w) => [w.state, w.snapshots])).toEqual([
    ['done', 130],
    ['done', 130],
  ]);
  expect(report.status).toBe('passed');
  expect(report.unusable).toEqual([]);
});

it('without roll-ups (an old run, or a worker killed before its first period) the raw snapshots are read, once each', async () => {
  const base = new FileStore(`${dir}/b`);
  const { plan, raw } = await writeRun(base, 'run-b', 2, 10, { noRollups: true });
  const reader = new RunReader(base, 'run-b');
  await reader.plan();
  await reader.complete();
  const report = await reportFromStore(reader, plan);
  expect(reader.snapshots).toHaveLength(20);
  expect(report.requests).toBe(mergeSnapshots(raw, INTERVAL).ops);
});

it('a live poll on a large farm lists only the next window of workers, and only keys after the last seen', async () => {
  const base = new FileStore(`${dir}/c`);
  await writeRun(base, 'run-c', 12, 3, { noRollups: true });
  const { store, calls } = counted(base);
  const reader = new RunReader(store, 'run-c', { workersPerRefresh: 4 });
  await reader.plan();
  const seen: number[] = [];
  for (let poll = 0; poll < 3; poll++) {
    const before = { ...calls };
    const fresh = await reader.refresh();
    seen.push(...new Set(fresh.map((s) => s.worker)));
    // 4 lists, 4 statuses, 4 × 3 snapshots.
    expect(calls.list - before.list).toBe(4);
    expect(calls.get - before.get).toBe(4 + 12);
  }
  expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  // Nothing new: a poll costs its lists and statuses, no snapshot is read twice.
  const before = { ...calls };
  expect(await reader.refresh()).toEqual([]);
  expect(calls.get - before.get).toBe(4);
});
