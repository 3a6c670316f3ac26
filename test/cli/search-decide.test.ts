import { decide } from '../../cli/search/decide';
import type { LimitStep } from '../../cli/report/limit';
import { bisect, ladder, parseStep, planSearch } from '../../worker/plan/search';

const search = planSearch({ from: 20, to: 200, step: '+50%', stepDuration: '1s', refine: 2 }, 0);

function step(offered: number, verdict: LimitStep['verdict'], refine = false): LimitStep {
  return {
    step: 0, refine, offered, startAt: 0, endAt: 1000, achieved: offered, arrivals: offered, requests: offered, errors: 0, errorRate: 0,
    p50: 1, p95: 2, p99: 3, workers: 2,
    health: { saturated: verdict === 'generator-limited', saturatedWorkers: verdict === 'generator-limited' ? [1] : [], cpuMaxPct: 95, loopLagMaxMs: 80 },
    verdict,
    broke: verdict === 'broke' ? [{ metric: 'http.GET /', expression: 'p(99) < 500', actual: 812 }] : [],
  };
}

describe('step sizes and the ladder', () => {
  it("reads '+50%' and '+50', refuses the rest", () => {
    expect(parseStep('+50%')).toEqual({ kind: 'percent', value: 50 });
    expect(parseStep('+50')).toEqual({ kind: 'add', value: 50 });
    for (const bad of ['50%', '+0%', '-10', '+x', '', '*2']) expect(parseStep(bad)).toBeUndefined();
  });
  it('climbs from `from` to exactly `to`', () => {
    expect(search.ladder).toEqual([20, 30, 45, 67.5, 101.25, 151.88, 200]);
    expect(ladder('closed', 10, 40, { kind: 'add', value: 10 })).toEqual([10, 20, 30, 40]);
    expect(ladder('closed', 1, 3, { kind: 'percent', value: 10 })).toEqual([1, 2, 3]);
  });
  it('bisects strictly between, or says there is no rate between', () => {
    expect(bisect('open', 45, 67.5)).toBe(56.25);
    expect(bisect('closed', 10, 11)).toBeUndefined();
  });
});

describe('decide', () => {
  it('starts at from and climbs while every step holds', () => {
    expect(decide(search, [], 2)).toEqual({ kind: 'next', rate: 20, refine: false });
    expect(decide(search, [step(20, 'held'), step(30, 'held')], 2)).toEqual({ kind: 'next', rate: 45, refine: false });
  });
  it('bisects refine times after the first break, then reports the bracket (sustained, brokeAt)', () => {
    const run = [step(20, 'held'), step(30, 'held'), step(45, 'held'), step(67.5, 'broke')];
    expect(decide(search, run, 2)).toEqual({ kind: 'next', rate: 56.25, refine: true });
    run.push(step(56.25, 'broke', true));
    expect(decide(search, run, 2)).toEqual({ kind: 'next', rate: 50.63, refine: true });
    run.push(step(50.63, 'held', true));
    const d = decide(search, run, 2);
    expect(d).toMatchObject({ kind: 'done', limit: { status: 'limit-found', sustained: 50.63, brokeAt: 56.25 } });
    if (d.kind === 'done') expect(d.limit.reason).toContain('http.GET / p(99) < 500 (was 812)');
  });
  it('every step held up to `to`: to-sustained, brokeAt null', () => {
    const run = search.ladder.map((r) => step(r, 'held'));
    expect(decide(search, run, 2)).toMatchObject({ kind: 'done', limit: { status: 'to-sustained', sustained: 200, brokeAt: null } });
  });
  it('the first step broke: first-step-broke, sustained null', () => {
    expect(decide(search, [step(20, 'broke')], 2)).toMatchObject({ kind: 'done', limit: { status: 'first-step-broke', sustained: null, brokeAt: 20 } });
  });
  it('a saturated step ends the search as generator-limited with more workers than it had, whatever the thresholds', () => {
    const d = decide(search, [step(20, 'held'), step(30, 'held'), step(45, 'generator-limited')], 2);
    expect(d).toMatchObject({ kind: 'done', limit: { status: 'generator-limited', sustained: 30, brokeAt: null } });
    // 30/s held unsaturated on 2 workers: 15/s each; 200/s needs 14.
    if (d.kind === 'done') expect(d.limit.workersNeeded).toBe(14);
  });
});
