import { runSearch, type SearchPort, type StepSource } from '../../worker/engine/search';
import { planSearch } from '../../worker/plan/search';
import type { SearchStep } from '../../worker/control/steps';
import { validateScenario } from '../../worker/scenario/validate';

/** Steps known in advance, on a fake clock the port's sleep advances. */
function fixture(steps: SearchStep[], model: 'open' | 'closed', index: number, of: number, stall?: { at: number; ms: number }) {
  let now = 1_000_000;
  const arrivals: number[] = [];
  let missed = 0;
  const users = new Map<number, () => boolean>();
  let stopAt = Infinity;
  const port: SearchPort = {
    get stopped() {
      return now >= stopAt;
    },
    sleep: async (ms) => {
      now += Math.max(1, ms);
      // A frozen event loop: the worker wakes `stall.ms` late once.
      if (stall && now >= stall.at) {
        now += stall.ms;
        stall = undefined;
      }
    },
    arrive: () => arrivals.push(now),
    missed: (n) => (missed += n),
    startUser: (slot, keepGoing) => users.set(slot, keepGoing),
  };
  const source: StepSource = {
    poll: async () => false,
    current: (t) => [...steps].reverse().find((s) => s.startAt <= t),
    next: (s) => steps[s === undefined ? 0 : s.step + 1],
  };
  const find = model === 'open' ? { from: 10, to: 100, stepDuration: '1s' } : { users: { from: 2, to: 10 }, stepDuration: '1s' };
  const boundaries: number[] = [];
  return {
    run: () => runSearch({ search: planSearch(find, 0), index, of, steps: source, onBoundary: () => boundaries.push(now), now: () => now }, port),
    arrivals,
    get missed() {
      return missed;
    },
    users,
    boundaries,
    stopAt: (t: number) => (stopAt = t),
    get now() {
      return now;
    },
  };
}

const T = 1_000_000;
const step = (n: number, rate: number, startAt: number, endAt: number): SearchStep => ({ v: 1, step: n, rate, startAt, endAt, refine: false });

it('open model: each worker takes k % of === index of each step, nothing between steps, snapshots cut at every start and end', async () => {
  const steps = [step(0, 20, T + 1000, T + 2000), step(1, 40, T + 3000, T + 4000)];
  const all: number[] = [];
  for (const index of [0, 1]) {
    const f = fixture(steps, 'open', index, 2);
    f.stopAt(T + 5000);
    // With no step after the last one, the worker ends its load after the decision timeout; stopped here first.
    await f.run();
    expect(f.arrivals.length).toBe(10 + 20);
    expect(f.arrivals.every((t) => (t >= T + 1000 && t < T + 2000) || (t >= T + 3000 && t < T + 4000))).toBe(true);
    expect(f.boundaries).toEqual([T + 1000, T + 2000, T + 3000, T + 4000]);
    all.push(...f.arrivals);
  }
  // Together the two workers make the whole schedule: 20/s then 40/s, every 50 ms then every 25 ms.
  expect(all.sort((a, b) => a - b)).toEqual([
    ...Array.from({ length: 20 }, (_, k) => T + 1000 + k * 50),
    ...Array.from({ length: 40 }, (_, k) => T + 3000 + k * 25),
  ]);
});

it('a worker that wakes after its step ended launches nothing into the gap: what the step still owed is counted as missed', async () => {
  const steps = [step(0, 20, T + 1000, T + 2000), step(1, 40, T + 3000, T + 4000)];
  // Frozen from 1.5 s into the first step until 300 ms after it ended.
  const f = fixture(steps, 'open', 0, 1, { at: T + 1500, ms: 800 });
  f.stopAt(T + 5000);
  await f.run();
  expect(f.arrivals.every((t) => (t >= T + 1000 && t < T + 2000) || (t >= T + 3000 && t < T + 4000))).toBe(true);
  const first = f.arrivals.filter((t) => t < T + 2000).length;
  expect(first + f.missed).toBe(20);
  expect(f.missed).toBeGreaterThan(0);
  expect(f.arrivals.filter((t) => t >= T + 3000)).toHaveLength(40);
});

it('closed model: each step runs the worker its share of users; a lower step retires the extra ones', async () => {
  const steps = [step(0, 7, T + 100, T + 1100), step(1, 3, T + 2000, T + 3000)];
  const f = fixture(steps, 'closed', 0, 2);
  f.stopAt(T + 1500);
  await f.run();
  expect([...f.users.keys()]).toEqual([0, 1, 2, 3]);
  expect([...f.users.values()].every((keepGoing) => keepGoing() === false)).toBe(true); // stopped
  const g = fixture(steps, 'closed', 0, 2);
  g.stopAt(T + 2500);
  await g.run();
  expect([...g.users.entries()].map(([slot, keepGoing]) => [slot, keepGoing()])).toEqual([
    [0, false],
    [1, false],
    [2, false],
    [3, false],
  ]);
});

it('without the CLI: no first step, or no next step after one ended, ends the load (the documented safe default)', async () => {
  const none = fixture([], 'open', 0, 1);
  expect(await none.run()).toBe('no-first-step');
  const one = fixture([step(0, 10, T + 100, T + 1100)], 'open', 0, 1);
  expect(await one.run()).toBe('no-decision');
  expect(one.now).toBeGreaterThanOrEqual(T + 1100 + 15_000);
  expect(one.arrivals.length).toBe(10);
});

it('validation: find with bounds, the closed form, abortOnFail objects; unknown keys and bad steps named', () => {
  const base = { name: 's', user: async () => undefined };
  expect(validateScenario({ ...base, load: { find: { from: 20, to: 5000, step: '+50%', stepDuration: '30s', refine: 2 } } })).toEqual([]);
  expect(validateScenario({ ...base, load: { find: { users: { from: 10, to: 500, step: '+10' }, stepDuration: '1m' } } })).toEqual([]);
  expect(validateScenario({ ...base, load: { find: { from: 20, to: 10, step: '50%', stepDuration: '30s', refnie: 1 } } })).toEqual([
    'load.find.refnie: unknown key — did you mean refine?',
    'load.find.to: expected a number >= load.find.from (20), got 10',
    "load.find.step: expected a step like '+50%' (times 1.5 each step) or '+50' (50 more each step), got \"50%\"",
  ]);
  expect(validateScenario({ ...base, load: { find: { from: 1, to: 1e6, step: '+1', stepDuration: '1s' } } })[0]).toMatch(/^load.find: expected at most 200 steps/);
  const t = { 'http.*': [{ expr: 'p(99) < 500', abortOnFail: true, delayAbortEval: '30s' }], errors: [{ exp: 'rate < 0.1' }] };
  expect(validateScenario({ ...base, load: { users: 1, duration: 1 }, thresholds: t })).toEqual([
    "thresholds['errors'][0].exp: unknown key — did you mean expr?",
    "thresholds['errors'][0].expr: expected an expression like 'p(99) < 250', got nothing",
  ]);
});
