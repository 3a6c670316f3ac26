import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHttpDispatcher } from '../../worker/protocols/http-dispatcher';
import { csv, ndjson } from '../../worker/data/define';
import { openWorkerData } from '../../worker/data/open';
import { parseCsvRecord } from '../../worker/data/records';
import { DataSet, DATA_EXHAUSTED } from '../../worker/data/set';
import { MemorySource } from '../../worker/data/source';
import type { PlannedData } from '../../worker/data/types';
import { createRng, userSeed } from '../../worker/engine/rng';
import { UserScope, type Runtime } from '../../worker/engine/scope';
import { HealthMonitor } from '../../worker/metrics/health';
import { Recorder } from '../../worker/metrics/recorder';
import { LoadError } from '../../worker/protocols/errors';
import { FileStore } from '../../worker/store/file';
import type { Store } from '../../worker/store/store';
import { splitRange } from '../../worker/plan/split';
import { plannedData, prepareData, uploadData } from '../../cli/data/prepare';
import { defineScenario } from '../../worker/scenario/define';
import { validateScenario } from '../../worker/scenario/validate';
import { rmTemp, tempDir } from '../helpers/cli';

let dir: string;
const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder: new Recorder(0) });
beforeAll(() => (dir = tempDir('loadfarm-data-unit-')));
afterAll(async () => {
  rmTemp(dir);
  await dispatcher.close();
});

function runtime(recorder = new Recorder(0)): Runtime {
  return { worker: 0, target: 'http://127.0.0.1:9', recorder, signal: new AbortController().signal, dispatcher, params: {}, timeoutMs: 1000, sourceAddress: () => undefined };
}

function planned(mode: PlannedData['mode'], rows: number): PlannedData {
  return { format: 'ndjson', mode, onExhausted: 'error', columns: [], types: {}, rows, bytes: 0, parts: [], slices: [{ first: 0, count: rows }], whole: true };
}

function memory(rows: number): MemorySource {
  const m = new MemorySource();
  for (let i = 0; i < rows; i++) m.add(`{"id":${i}}\n`);
  return m;
}

/** Draws of 5 users × 4 rows each, every user with its own rng from the run seed. */
function draws(set: DataSet, seed: number): number[] {
  const out: number[] = [];
  for (let id = 0; id < 5; id++) {
    const rng = createRng(userSeed(seed, id));
    const scope = new UserScope(runtime(), 0, id);
    for (let k = 0; k < 4; k++) out.push((set.draw(scope, () => rng) as { id: number }).id);
  }
  return out;
}

describe('data sets on one worker', () => {
  it('random: the same seed draws the same rows; another seed draws others', () => {
    const a = draws(new DataSet('x', planned('random', 50), memory(50)), 7);
    const b = draws(new DataSet('x', planned('random', 50), memory(50)), 7);
    const c = draws(new DataSet('x', planned('random', 50), memory(50)), 8);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(5);
  });

  it('cycle: rows in order from the worker\'s start, round again after the last', () => {
    const set = new DataSet('x', planned('cycle', 6), memory(6), 4);
    expect(draws(set, 1).slice(0, 9)).toEqual([4, 5, 0, 1, 2, 3, 4, 5, 0]);
  });

  it('unique: each row once, then DATA_EXHAUSTED counted as one operation and one error through the user scope', () => {
    const recorder = new Recorder(0);
    const rt = runtime(recorder);
    const set = new DataSet('accounts', planned('unique', 3), memory(3));
    const scope = new UserScope(rt, 0, 1);
    const rng = () => createRng(1);
    expect([0, 1, 2].map(() => (set.draw(scope, rng) as { id: number }).id)).toEqual([0, 1, 2]);
    let thrown: unknown;
    try {
      set.draw(scope, rng);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LoadError);
    expect((thrown as LoadError).code).toBe(DATA_EXHAUSTED);
    expect((thrown as LoadError).recorded).toBe(true);
    const health = new HealthMonitor();
    const snap = recorder.cut(health.take(), true);
    health.stop();
    expect(snap.ops).toBe(1);
    expect(snap.errors).toEqual({ [DATA_EXHAUSTED]: 1 });
  });
});

describe('CSV records', () => {
  it('quotes, doubled quotes, commas and line breaks inside quotes, empty fields', () => {
    expect(parseCsvRecord('1,"a, ""b""\nc",,x')).toEqual(['1', 'a, "b"\nc', '', 'x']);
  });
  it('a problem names its line and column', () => {
    expect(parseCsvRecord('1,ab"c', 4)).toEqual({ line: 4, column: 5, message: expect.stringMatching(/a quote inside an unquoted field/) });
    expect(parseCsvRecord('1,"x\ny"z', 2)).toEqual({ line: 3, column: 3, message: expect.stringMatching(/after a closing quote/) });
  });
});

describe('a file split across 3 workers through the store', () => {
  it('unique: the workers\' shares together are every row exactly once, and each fetches only the parts holding its rows', async () => {
    // About 3.4 MB of CSV: four parts of at most 1 MiB.
    const rows = 30_000;
    const file = path.join(dir, 'people.csv');
    const lines = ['id,name,note'];
    for (let i = 0; i < rows; i++) lines.push(`${i},person ${i},"${'n'.repeat(90)}, ""quoted"""`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const scenario = defineScenario({
      name: 'split',
      data: { people: csv('./people.csv', { mode: 'unique', types: { id: 'number' } }) },
      load: { phases: [{ duration: '10s', arrivalRate: 3000 }] },
      user: () => undefined,
    });
    expect(validateScenario(scenario)).toEqual([]);
    const prepared = prepareData(scenario, path.join(dir, 'scenario.ts'), 3);
    expect(prepared.warnings).toEqual([]);
    const store = new FileStore(path.join(dir, 'store'));
    const gets: string[] = [];
    const counting: Store = Object.assign(Object.create(store), { get: (key: string) => (gets.push(key), store.get(key)) });
    await uploadData(store, 'run-1', prepared);
    const data = plannedData(prepared, 'run-1')!;
    expect(data.people.parts.length).toBe(4);
    expect(data.people.slices).toEqual(splitRange(rows, 3));
    const seen: number[] = [];
    for (let index = 0; index < 3; index++) {
      gets.length = 0;
      const opened = await openWorkerData({ store: counting, runId: 'run-1', index, data, stop: () => undefined, tmpDir: dir });
      if ('exit' in opened) throw new Error(opened.message);
      const set = opened.data.sets.get('people')!;
      const scope = new UserScope(runtime(), 0, index);
      for (let k = 0; k < set.size; k++) {
        const row = set.draw(scope, () => createRng(1)) as { id: number; note: string };
        expect(row.note).toBe(`${'n'.repeat(90)}, "quoted"`);
        seen.push(row.id);
      }
      expect(() => set.draw(scope, () => createRng(1))).toThrow(/used up/);
      opened.data.close();
      // A third of four parts: never all of them.
      expect(gets.length).toBeLessThanOrEqual(2);
    }
    expect(seen).toHaveLength(rows);
    expect(new Set(seen).size).toBe(rows);
  });

  it('a unique set smaller than the load: a warning with the numbers', () => {
    const file = path.join(dir, 'few.ndjson');
    fs.writeFileSync(file, '{"a":1}\n\n{"a":2}\n{"a":3}\n');
    const scenario = defineScenario({ name: 'few', data: { few: ndjson('./few.ndjson', { mode: 'unique' }) }, load: { users: 5, duration: '1s' }, user: () => undefined });
    expect(prepareData(scenario, path.join(dir, 's.ts'), 2).warnings).toEqual([
      'warning: data few: 3 rows for 5 users (at least: each iteration draws again) in unique mode: 2 users will end with DATA_EXHAUSTED (per worker, rows/users: 2/3, 1/2)',
    ]);
  });

  it('scenario validation names a data entry that is not from csv/json/ndjson and a bad mode', () => {
    const problems = validateScenario({ name: 'x', load: { users: 1, duration: '1s' }, user: () => undefined, data: { a: './a.csv', b: csv('./b.csv', { mode: 'once' as never }) } });
    expect(problems).toEqual([
      `data.a: expected csv('./file.csv'), json('./file.json') or ndjson('./file.ndjson') from 'loadfarm', got "./a.csv"`,
      `data.b.mode: expected 'unique', 'cycle' or 'random', got "once"`,
    ]);
  });
});
