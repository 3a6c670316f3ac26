import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { makePlan } from '../../../cli/plan';
import { readPlan } from '../../../worker/plan/read';
import { FileStore } from '../../../worker/store/file';
import { layout } from '../../../worker/store/layout';
import { defineScenario } from '../../../worker/scenario/define';

let dir: string;
let store: FileStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'loadfarm-read-plan-'));
  store = new FileStore(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const scenario = (load: object) => defineScenario({ name: 'shop', target: 'http://127.0.0.1:8080', load, async user() {} } as never);

function planOf(runId: string, load: object = { users: 4, duration: '10s' }) {
  return makePlan({ runId, scenario: scenario(load), scenarioFile: '/s.ts', target: 'http://127.0.0.1:8080', workers: 2, staggerMs: 0, seed: 7, intervalMs: 1000, now: 0 } as never);
}

test('a plan written by loadfarm reads back as it is, closed and open model', async () => {
  const closed = planOf('closed-1');
  await store.put(layout.plan('closed-1'), JSON.stringify(closed));
  expect(await readPlan(store, 'closed-1')).toEqual(closed);
  const open = planOf('open-1', { phases: [{ duration: '5s', arrivalRate: 4 }], maxUsers: 10 });
  await store.put(layout.plan('open-1'), JSON.stringify(open));
  expect(await readPlan(store, 'open-1')).toEqual(open);
});

test('no plan.json: undefined', async () => {
  expect(await readPlan(store, 'absent')).toBeUndefined();
});

test('plan.json {} is refused with every missing field named, in one line', async () => {
  await store.put(layout.plan('empty'), '{}');
  const err = await readPlan(store, 'empty').catch((e: unknown) => e);
  expect(err).toMatchObject({ name: 'PlanError', code: 'PLAN_INVALID', key: 'runs/empty/plan.json' });
  expect((err as Error).message).toBe(
    `file://${dir}: runs/empty/plan.json is not a usable plan: missing v, runId, createdAt, seed, staggerMs, intervalMs, graceMs, ` +
      'loadMs, hardStopMs, scenario, target, identities, thresholds, workers; ' +
      'it was not written by `loadfarm run` or was changed since: start the run again',
  );
});

test('invalid fields are named with what was expected and what was found; another run\'s plan is refused', async () => {
  const plan = planOf('mixed') as unknown as Record<string, unknown>;
  const workers = plan.workers as Record<string, unknown>[];
  const bad = { ...plan, runId: 'other-run', intervalMs: -5, workers: [{ ...workers[0], seed: 'x' }, { ...workers[1], load: { model: 'sideways' } }] };
  await store.put(layout.plan('mixed'), JSON.stringify(bad));
  const err = (await readPlan(store, 'mixed').catch((e: unknown) => e)) as Error & { problems: string[] };
  expect(err.problems).toEqual([
    'runId: expected "mixed" (the run it is stored under), got "other-run"',
    'intervalMs: expected a number >= 0, got -5',
    'workers[0].seed: expected a number >= 0, got "x"',
    'workers[1].load.model: expected "open" or "closed", got "sideways"',
  ]);
  expect(err.message.split('\n')).toHaveLength(1);
});

test('plan.json that is not JSON is named as such', async () => {
  await store.put(layout.plan('cut'), '{"v":1,"ru');
  await expect(readPlan(store, 'cut')).rejects.toMatchObject({ name: 'PlanError', code: 'PLAN_NOT_JSON', message: expect.stringContaining('runs/cut/plan.json is not JSON (') });
});

test('an unsafe run id is refused before the store is read', async () => {
  await expect(readPlan(store, '../../etc')).rejects.toMatchObject({ name: 'StoreError', code: 'STORE_BAD_RUN_ID' });
});
