import fc from 'fast-check';
import { distribute, splitLoad, totalArrivals, normalisePhases } from '../../worker/plan/split';
import { makePlan } from '../../cli/plan';
import { defineScenario } from '../../worker/scenario/define';

describe('distribute', () => {
  it('gives the remainder to the first parts', () => {
    expect(distribute(10, 3)).toEqual([4, 3, 3]);
    expect(distribute(2, 4)).toEqual([1, 1, 0, 0]);
    expect(distribute(0, 2)).toEqual([0, 0]);
  });

  it('never loses or invents a unit, and parts differ by at most one', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 500 }), (total, n) => {
        const parts = distribute(total, n);
        expect(parts).toHaveLength(n);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('refuses nonsense', () => {
    expect(() => distribute(-1, 2)).toThrow(RangeError);
    expect(() => distribute(1.5, 2)).toThrow(RangeError);
    expect(() => distribute(3, 0)).toThrow(RangeError);
  });
});

describe('splitLoad', () => {
  it('splits closed-model users exactly', () => {
    const shares = splitLoad({ users: 10, duration: '1m', rampUp: '10s' }, 3);
    expect(shares.map((s) => s.load.model === 'closed' && s.load.users)).toEqual([4, 3, 3]);
    expect(shares.map((s) => s.identities)).toEqual([4, 3, 3]);
    expect(shares[0].load).toMatchObject({ durationMs: 60_000, rampUpMs: 10_000 });
  });

  it('splits open-model arrivals so that the shares add up to the whole schedule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ duration: fc.integer({ min: 1, max: 120 }), arrivalRate: fc.integer({ min: 0, max: 200 }), rampTo: fc.integer({ min: 0, max: 200 }) }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
        (phases, workers, maxUsers) => {
          const load = { phases, maxUsers };
          const shares = splitLoad(load, workers);
          const total = totalArrivals(normalisePhases(load));
          const arrivals = shares.map((s) => (s.load.model === 'open' ? s.load.arrivals : -1));
          expect(arrivals.reduce((a, b) => a + b, 0)).toBe(total);
          if (maxUsers !== undefined) expect(shares.reduce((a, s) => a + (s.load.model === 'open' ? s.load.maxUsers ?? 0 : 0), 0)).toBe(maxUsers);
          shares.forEach((s, i) => expect(s.load).toMatchObject({ index: i, of: workers }));
        },
      ),
    );
  });

  it('counts 10 arrivals for 1/s over 10 s however many workers (the floor() trap)', () => {
    for (const n of [1, 3, 4, 7]) {
      const shares = splitLoad({ phases: [{ duration: '10s', arrivalRate: 1 }] }, n);
      expect(shares.reduce((a, s) => a + s.identities, 0)).toBe(10);
    }
  });
});

describe('makePlan', () => {
  const scenario = defineScenario({ name: 'p', load: { users: 7, duration: '30s' }, user: async () => {} });

  it('gives each worker its own identity range, seed and start time', () => {
    const plan = makePlan({ runId: 'r', scenario, scenarioFile: '/s.ts', target: 'http://127.0.0.1:1', workers: 3, staggerMs: 2000, seed: 41, intervalMs: 5000, idBase: 1000, now: 0 });
    expect(plan.workers.map((w) => w.identity)).toEqual([
      { first: 1000, count: 3 },
      { first: 1003, count: 2 },
      { first: 1006, count: 2 },
    ]);
    expect(plan.identities).toEqual({ base: 1000, stride: 3 });
    expect(plan.workers.map((w) => w.seed)).toEqual([41, 42, 43]);
    expect(plan.workers.map((w) => w.startOffsetMs)).toEqual([0, 2000, 4000]);
    expect(plan.loadMs).toBe(30_000);
    expect(plan.hardStopMs).toBeGreaterThan(plan.loadMs + plan.graceMs);
  });

  it('identity ranges never overlap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 50 }), (users, workers) => {
        const s = defineScenario({ name: 'p', load: { users, duration: 1 }, user: async () => {} });
        const plan = makePlan({ runId: 'r', scenario: s, scenarioFile: '/s.ts', target: 'http://127.0.0.1:1', workers, staggerMs: 0, seed: 1, intervalMs: 1000, now: 0 });
        const ids = plan.workers.flatMap((w) => Array.from({ length: w.identity.count }, (_, k) => w.identity.first + k));
        expect(new Set(ids).size).toBe(users);
        plan.workers.forEach((w) => expect(w.identity.count).toBeLessThanOrEqual(plan.identities.stride));
      }),
      { numRuns: 50 },
    );
  });

  it('merges command-line thresholds into the scenario ones', () => {
    const s = defineScenario({ ...scenario, thresholds: { errors: 'rate < 0.1' } });
    const plan = makePlan({ runId: 'r', scenario: s, scenarioFile: '/s.ts', target: 'http://x:1', workers: 1, staggerMs: 0, seed: 1, intervalMs: 1000, thresholds: { errors: ['count < 5'], 'http.*': ['p(99) < 10'] } });
    expect(plan.thresholds).toEqual({ errors: ['rate < 0.1', 'count < 5'], 'http.*': ['p(99) < 10'] });
  });
});
